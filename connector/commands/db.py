"""Set-up commands: `connector db upgrade`, `connector secret-key` and `connector hash-password`."""

from __future__ import annotations

import click

from connector.crypto import generate_secret_key
from connector.services import Services
from connector.store.db import Database, current_revision, revisions_between, sqlite_file


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
    before = None
    if path is None or path.exists():  # a new SQLite file is created (and announced) by the upgrade itself
        probe = Database(url, check=False)
        try:
            before = current_revision(probe.engine)
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
