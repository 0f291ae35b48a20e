"""The `connector` command line: one group, with each command's code in connector/commands/."""

from __future__ import annotations

import importlib
import logging
import sys
from importlib.metadata import entry_points
from typing import Any

import click

from connector import __version__
from connector.errors import ConnectorError


# Commands that say where the database is every time they start (the others say it when they create it).
ANNOUNCE_DATABASE = frozenset({"serve", "worker", "db"})

# Commands that need neither settings nor the database; `plan` also stays fast by not importing them.
# Plugin commands (see PLUGIN_GROUP) are offline too: they build whatever services they need themselves.
OFFLINE_COMMANDS = frozenset({"plan", "secret-key", "hash-password"})

# Other distributions add commands here; the development-only `backorder-sandbox` (sandbox/) adds
# `demo` and `sandbox`, so a merchant's install has neither.
PLUGIN_GROUP = "connector.commands"


# Each command is imported only when it runs, so `connector plan` never pays for Flask or SQLAlchemy.
COMMANDS = {
    "plan": "connector.commands.plan:plan_command",
    "shops": "connector.commands.shops:shops_group",
    "shopify": "connector.commands.shopify:shopify_group",
    "feeds": "connector.commands.feeds:feeds_group",
    "suppliers": "connector.commands.suppliers:suppliers_group",
    "supplies": "connector.commands.suppliers:supplies_group",
    "report": "connector.commands.suppliers:report_command",
    "sync": "connector.commands.stores:sync_command",
    "reconcile": "connector.commands.stores:reconcile_command",
    "worker": "connector.commands.worker:worker_command",
    "serve": "connector.commands.serve:serve_command",
    "deliveries": "connector.commands.deliveries:deliveries_group",
    "actions": "connector.commands.deliveries:actions_group",
    "held": "connector.commands.held:held_group",
    "storefront": "connector.commands.storefront:storefront_group",
    "stock": "connector.commands.stock:stock_group",
    "db": "connector.commands.db:db_group",
    "secret-key": "connector.commands.db:secret_key_command",
    "hash-password": "connector.commands.db:hash_password_command",
}


def plugin_commands() -> dict[str, str]:
    """Commands other installed distributions register, name -> "module:attribute"; built-ins win."""
    return {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP) if ep.name not in COMMANDS}


class ConnectorGroup(click.Group):
    """Loads commands on demand, and turns the connector's own errors into one line on stderr and an
    exit status, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *plugin_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name) or plugin_commands().get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConnectorError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=ConnectorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="connector")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Backorder connector: finds backordered order lines on Shopify and WooCommerce stores,
    works out honest ETAs from supplier feeds, writes them back and tells customers."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    offline = ctx.invoked_subcommand in OFFLINE_COMMANDS or ctx.invoked_subcommand not in COMMANDS
    if offline or ctx.resilient_parsing:
        return  # offline commands need no settings
    from connector.services import Services

    if isinstance(ctx.obj, Services):
        return  # handed in by the caller (tests pass services wired to stand-in stores)
    from connector.settings import load_settings

    settings = load_settings()
    if ctx.invoked_subcommand in ANNOUNCE_DATABASE:
        click.echo(f"database: {settings.database_label}", err=True)

    def announce_new(label: str) -> None:
        click.echo(f"note: started a new, empty database: {label} (set DATABASE_URL or DATA_DIR, or run from the "
                   "folder that holds your .env, to use another)", err=True)

    ctx.obj = Services(settings, on_new_database=announce_new)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    cli(prog_name="connector")
