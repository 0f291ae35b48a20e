"""`connector db upgrade` and `connector secret-key`."""

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
