"""Set-up commands: `connector db upgrade|rotate-key`, `connector secret-key` and `connector hash-password`."""

from __future__ import annotations

import click

from connector.crypto import generate_secret_key
from connector.errors import ConfigError
from connector.feeds.credentials import count_sources_holding_credentials, seal_stored_credentials
from connector.services import Services
from connector.store.db import Database, current_revision, revisions_between, sqlite_file
from connector.store.rotation import rotate_sealed


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(services: Services) -> None:
    """Apply every database migration not yet applied, and say which.

    Other commands never migrate: they stop with a message naming both revisions when the database
    is behind. `serve`, `worker` and `demo` also apply pending migrations when they start."""
    url = services.settings.database_url
    path = sqlite_file(url)
    before, holding = None, 0
    if path is None or path.exists():  # a new SQLite file is created (and announced) by the upgrade itself
        probe = Database(url, check=False)
        try:
            before = current_revision(probe.engine)
            holding = count_sources_holding_credentials(probe) if before is not None else 0
        finally:
            probe.dispose()
    after = current_revision(services.upgrade_database().engine)
    applied = revisions_between(services.db.engine, before, after)
    if applied:
        click.echo(f"applied {len(applied)} migration(s) to the {services.db.dialect} database:")
        for step in applied:
            click.echo(f"  {step}")
        click.echo(f"the database is now at {after}")
    else:
        click.echo(f"the {services.db.dialect} database was already up to date (at {after}); nothing applied")
    if holding and services.settings.connector_secret_key:
        # Feed URLs stored with their credentials before migration 0010 give them up here, sealed apart.
        seal_stored_credentials(services.db, services.box)
    left = count_sources_holding_credentials(services.db) if holding else 0
    if holding - left:
        click.echo(f"moved the credentials of {holding - left} feed URL(s) out of the URL into sealed storage")
    if left:
        raise ConfigError("CONNECTOR_SECRET_KEY", f"is required to move the credentials of {left} stored feed URL(s) "
                                                  "into sealed storage; set it and run `connector db upgrade` again")


@db_group.command("rotate-key")
@click.pass_obj
def rotate_key_command(services: Services) -> None:
    """Re-encrypt every sealed value (shop tokens and keys, webhook secrets, feed credentials) under the current
    CONNECTOR_SECRET_KEY, reading old ones with CONNECTOR_SECRET_KEY_PREVIOUS. One transaction: when a value
    opens with neither key nothing is written and the exit status is 2. Running it again changes nothing."""
    box = services.box
    with services.db.session() as session:
        rotation = rotate_sealed(session, box)
    if not rotation.resealed_total:
        click.echo(f"nothing to re-encrypt: all {rotation.current_total} sealed value(s) are already under the "
                   "current CONNECTOR_SECRET_KEY")
        return
    where = ", ".join(f"{name} {count}" for name, count in sorted(rotation.resealed.items()))
    click.echo(f"re-encrypted {rotation.resealed_total} sealed value(s) under the current CONNECTOR_SECRET_KEY "
               f"({where}); {rotation.current_total} were already under it")
    click.echo("once every process runs with the new key, remove CONNECTOR_SECRET_KEY_PREVIOUS")


@click.command("secret-key")
def secret_key_command() -> None:
    """Print a fresh random value for CONNECTOR_SECRET_KEY."""
    click.echo(generate_secret_key())


@click.command("hash-password")
@click.password_option("--password", prompt="Dashboard password", help="Read from a prompt when not given.")
def hash_password_command(password: str) -> None:
    """Print a hash of a dashboard password to use as ADMIN_PASSWORD (the password itself is never stored)."""
    from connector.web.dashboard.auth import hash_password

    click.echo(hash_password(password))
