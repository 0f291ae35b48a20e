"""The `connector` command line: one group, with each command's code in connector/commands/."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from connector import __version__
from connector.errors import ConnectorError


class ConnectorGroup(click.Group):
    """Turns the connector's own errors into one line on stderr and an exit status, never a traceback."""

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
    from connector.services import Services
    from connector.settings import load_settings

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if ctx.invoked_subcommand in {"plan", "secret-key"} or ctx.resilient_parsing:
        return  # offline commands need no settings
    ctx.obj = Services(load_settings())
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from connector.commands import db, feeds, plan, shops, stores

    for command in (plan.plan_command, shops.shops_group, feeds.feeds_group, db.db_group, db.secret_key_command,
                    stores.reconcile_command, stores.sync_command):
        cli.add_command(command)
    for module_name, attribute in (
        ("connector.commands.worker", "worker_command"),
        ("connector.commands.deliveries", "deliveries_group"),
        ("connector.commands.deliveries", "actions_group"),
        ("connector.commands.serve", "serve_command"),
        ("connector.commands.sandbox", "sandbox_group"),
        ("connector.commands.demo", "demo_command"),
    ):
        module = importlib.import_module(module_name)
        cli.add_command(getattr(module, attribute))


_register()


def main() -> None:
    cli(prog_name="connector")
