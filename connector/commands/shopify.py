"""`connector shopify app-config`: write the Shopify CLI app configuration (shopify.app.toml) from the settings."""

from __future__ import annotations

from pathlib import Path

import click

from connector.errors import InputError
from connector.platforms.shopify.app_config import render_app_config
from connector.platforms.shopify.scopes import requested_scopes
from connector.services import Services

DEFAULT_FILE = "shopify.app.toml"


@click.group("shopify")
def shopify_group() -> None:
    """Shopify app set-up."""


@shopify_group.command("app-config")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=DEFAULT_FILE,
              show_default=True, help="Where to write it; '-' prints it instead.")
@click.option("--name", default="Backorder Connector", show_default=True, help="The app's name in Shopify.")
@click.pass_obj
def app_config_command(services: Services, output: str, name: str) -> None:
    """Write shopify.app.toml (scopes, redirect URL, webhook and compliance topics) from SHOPIFY_API_KEY,
    APP_URL, SHOPIFY_SCOPES, SHOPIFY_READ_ALL_ORDERS and SHOPIFY_API_VERSION; deploy it with `shopify app deploy`."""
    settings = services.settings
    if not settings.app_url.startswith("https://"):
        raise InputError("APP_URL", "Shopify only accepts an https application URL; set APP_URL to the public "
                                    "https address of `connector serve`")
    text = render_app_config(client_id=settings.require("shopify_api_key"), app_url=settings.app_url,
                             scopes=requested_scopes(settings.shopify_scopes,
                                                     read_all_orders=settings.shopify_read_all_orders),
                             api_version=settings.shopify_api_version, name=name)
    if output == "-":
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}; deploy it with `shopify app deploy`, then set SHOPIFY_APP_WEBHOOKS=true")
