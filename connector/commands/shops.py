"""`connector shops add|list`: register stores by hand (custom apps, tests) and list them."""

from __future__ import annotations

import click
from connector.commands.output import console
from rich.table import Table
from sqlalchemy import select

from connector.errors import InputError
from connector.services import Services
from connector.store.models import Shop
from connector.store.repo import ACCESS_SETTING, ensure_shop, save_credentials

SHOPIFY_DOMAIN_HELP = "The shop's name.myshopify.com domain."


def _settings(handling_days: int | None, lead_days: int | None, holds: bool | None,
              templates_dir: str | None = None) -> dict[str, object]:
    values: dict[str, object] = {}
    if templates_dir is not None:
        values["templates_dir"] = templates_dir
    if handling_days is not None:
        values["handling_days"] = handling_days
    if lead_days is not None:
        values["default_lead_time_days"] = lead_days
    if holds is not None:
        values["holds"] = holds
    return values


def register_shop(
    services: Services, platform: str, domain: str, *, api_url: str | None, name: str,
    credentials: dict[str, object], settings: dict[str, object],
) -> Shop:
    """Create or update a shop (unique on platform + domain) with its credentials sealed."""
    with services.db.session() as session:
        shop = ensure_shop(session, platform, domain, name=name or domain, api_url=api_url)
        for key, value in settings.items():
            shop.set_setting(key, value)
        save_credentials(shop, services.box, **credentials)
        return shop


@click.group("shops")
def shops_group() -> None:
    """Register and list stores."""


@shops_group.group("add")
def add_group() -> None:
    """Register a store by hand (custom apps, sandboxes, tests); the install routes do this for public apps."""


@add_group.command("shopify")
@click.option("--domain", required=True, help=SHOPIFY_DOMAIN_HELP)
@click.option("--token", required=True, help="Admin API access token (custom app).")
@click.option("--api-url", default=None, help="Explicit API base URL (sandbox, proxy); plain http only on loopback.")
@click.option("--name", default="", help="Display name.")
@click.option("--handling-days", type=click.IntRange(0, 365), default=None)
@click.option("--default-lead-days", type=click.IntRange(0, 365), default=None)
@click.option("--holds/--no-holds", default=None, help="Place fulfillment holds on backordered lines (default on).")
@click.option("--templates-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="A folder of notice templates that override the shipped ones for this shop.")
@click.pass_obj
def add_shopify(services: Services, domain: str, token: str, api_url: str | None, name: str,
                handling_days: int | None, default_lead_days: int | None, holds: bool | None,
                templates_dir: str | None) -> None:
    """Register a Shopify store."""
    from connector.platforms.shopify.addresses import shop_base_url

    domain = domain.strip().lower()
    shop_base_url(domain, api_url)  # refuses a bad domain or a non-loopback http API URL before storing
    shop = register_shop(services, "shopify", domain, api_url=api_url, name=name,
                         credentials={"access_token": token},
                         settings=_settings(handling_days, default_lead_days, holds, templates_dir))
    click.echo(f"shop {shop.id}: shopify {domain}")


@add_group.command("woocommerce")
@click.option("--url", "store_url", required=True, help="The store's URL, e.g. https://shop.example.com.")
@click.option("--key", required=True, help="REST API consumer key (ck_...).")
@click.option("--secret", required=True, help="REST API consumer secret (cs_...).")
@click.option("--webhook-secret", default=None, help="Secret of webhooks you created by hand.")
@click.option("--query-string-auth", is_flag=True, help="Send keys as query parameters (hosts that strip Authorization).")
@click.option("--name", default="")
@click.option("--handling-days", type=click.IntRange(0, 365), default=None)
@click.option("--default-lead-days", type=click.IntRange(0, 365), default=None)
@click.option("--templates-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="A folder of notice templates that override the shipped ones for this shop.")
@click.pass_obj
def add_woocommerce(services: Services, store_url: str, key: str, secret: str, webhook_secret: str | None,
                    query_string_auth: bool, name: str, handling_days: int | None, default_lead_days: int | None,
                    templates_dir: str | None) -> None:
    """Register a WooCommerce store."""
    from connector.platforms.woocommerce.auth import normalize_store_url

    try:
        url = normalize_store_url(store_url)
    except ValueError as exc:
        raise InputError("--url", str(exc)) from None
    settings = _settings(handling_days, default_lead_days, None, templates_dir)
    if query_string_auth:
        settings["query_string_auth"] = True
    credentials: dict[str, object] = {"consumer_key": key, "consumer_secret": secret}
    if webhook_secret:
        credentials["webhook_secret"] = webhook_secret
    shop = register_shop(services, "woocommerce", url, api_url=None, name=name, credentials=credentials,
                         settings=settings)
    click.echo(f"shop {shop.id}: woocommerce {url}")


@shops_group.command("list")
@click.pass_obj
def list_shops(services: Services) -> None:
    """List registered stores (never their credentials), with the scopes a store has not granted."""
    table = Table("id", "platform", "domain", "name", "active", "installed", "missing scopes")
    with services.db.session() as session:
        for shop in session.scalars(select(Shop).order_by(Shop.id)):
            table.add_row(str(shop.id), shop.platform, shop.domain, shop.name,
                          "yes" if shop.active else "no", shop.created_at.strftime("%Y-%m-%d %H:%M"),
                          _missing(shop))
    console().print(table)


def _missing(shop: Shop) -> str:
    """The scopes the last check found missing ("" when none; "not checked" before the first sync)."""
    report = shop.setting(ACCESS_SETTING, None)
    if not isinstance(report, dict):
        return "not checked"
    return ", ".join(str(scope) for scope in report.get("missing") or [])
