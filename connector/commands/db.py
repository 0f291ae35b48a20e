"""Set-up commands: `connector db upgrade`, `connector secret-key` and `connector hash-password`."""

from __future__ import annotations

import click

from connector.crypto import generate_secret_key
from connector.services import Services
from connector.store.db import Database, current_revision, revisions_between


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(services: Services) -> None:
    """Apply every database migration not yet applied (commands also do this on first use), and say which."""
    probe = Database(services.settings.database_url, migrate=False)
    try:
        before = current_revision(probe.engine)
    finally:
        probe.dispose()
    after = current_revision(services.db.engine)  # building the services' Database applies the migrations
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
