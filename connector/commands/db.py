"""Set-up commands: `connector db upgrade`, `connector secret-key` and `connector hash-password`."""

from __future__ import annotations

import click

from connector.crypto import generate_secret_key
from connector.services import Services


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(services: Services) -> None:
    """Apply every database migration not yet applied (commands also do this on first use)."""
    services.db  # building the Database applies the migrations
    click.echo(f"database is up to date ({services.db.dialect})")


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
