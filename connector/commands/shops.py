"""`connector shops add|list|disable|enable|remove`: register stores by hand, see their health, pause or drop them."""

from __future__ import annotations

import click
from rich.table import Table
from sqlalchemy import select

from connector.commands.output import confirm, console, print_json, when
from connector.errors import InputError
from connector.pipeline.shops import disable_shop, enable_shop, remove_shop, verify_credentials
from connector.pipeline.sync import DISPLAY_NAME, PROFILE_CHECKED
from connector.platforms.base import ShopProfile
from connector.services import Services
from connector.store.models import Shop, utcnow
from connector.store.repo import ACCESS_SETTING, ensure_shop, get_shop, save_credentials

SHOPIFY_DOMAIN_HELP = "The shop's name.myshopify.com domain."
VERIFY_HELP = "Skip the check that the store accepts the credentials (offline set-up; the first sync checks them)."


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


NO_VERIFY_HINT = "add --no-verify to store the shop without checking"


def register_shop(
    services: Services, platform: str, domain: str, *, api_url: str | None, name: str,
    credentials: dict[str, object], settings: dict[str, object], verify: bool = True,
) -> tuple[Shop, ShopProfile | None]:
    """Check the credentials (unless `verify` is False), then create or update the shop (unique on
    platform + domain) with its credentials sealed and the store's own name unless `name` is given."""
    profile = verify_credentials(services, platform, domain, api_url=api_url, credentials=credentials,
                                 settings=settings, unreachable_hint=NO_VERIFY_HINT) if verify else None
    display = name or (profile.name if profile else "") or domain
    with services.db.session() as session:
        shop = ensure_shop(session, platform, domain, name=display, api_url=api_url)
        shop.name = display[:255]
        for key, value in settings.items():
            shop.set_setting(key, value)
        shop.set_setting(DISPLAY_NAME, name or None)
        shop.set_setting(PROFILE_CHECKED, utcnow().isoformat() if profile else None)
        save_credentials(shop, services.box, **credentials)
        return shop, profile


def _added(shop: Shop, profile: ShopProfile | None) -> str:
    checked = f"credentials accepted, the store calls itself {profile.name!r}" if profile else "credentials not checked"
    return f"shop {shop.id}: {shop.platform} {shop.domain} ({shop.name}); {checked}"


@click.group("shops")
def shops_group() -> None:
    """Register, list, pause and remove stores."""


@shops_group.group("add")
def add_group() -> None:
    """Register a store by hand (custom apps, sandboxes, tests); the install routes do this for public apps."""


@add_group.command("shopify")
@click.option("--domain", required=True, help=SHOPIFY_DOMAIN_HELP)
@click.option("--token", required=True, help="Admin API access token (custom app).")
@click.option("--api-url", default=None, help="Explicit API base URL (sandbox, proxy); plain http only on loopback.")
@click.option("--name", default="", help="Display name for customers (default: the store's own name).")
@click.option("--handling-days", type=click.IntRange(0, 365), default=None)
@click.option("--default-lead-days", type=click.IntRange(0, 365), default=None)
@click.option("--holds/--no-holds", default=None, help="Place fulfillment holds on backordered lines (default on).")
@click.option("--templates-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="A folder of notice templates that override the shipped ones for this shop.")
@click.option("--no-verify", is_flag=True, help=VERIFY_HELP)
@click.pass_obj
def add_shopify(services: Services, domain: str, token: str, api_url: str | None, name: str,
                handling_days: int | None, default_lead_days: int | None, holds: bool | None,
                templates_dir: str | None, no_verify: bool) -> None:
    """Register a Shopify store; its credentials are checked with one read of the shop's name."""
    from connector.platforms.shopify.addresses import shop_base_url

    domain = domain.strip().lower()
    shop_base_url(domain, api_url)  # refuses a bad domain or a non-loopback http API URL before storing
    shop, profile = register_shop(services, "shopify", domain, api_url=api_url, name=name,
                                  credentials={"access_token": token},
                                  settings=_settings(handling_days, default_lead_days, holds, templates_dir),
                                  verify=not no_verify)
    click.echo(_added(shop, profile))


@add_group.command("woocommerce")
@click.option("--url", "store_url", required=True, help="The store's URL, e.g. https://shop.example.com.")
@click.option("--key", required=True, help="REST API consumer key (ck_...).")
@click.option("--secret", required=True, help="REST API consumer secret (cs_...).")
@click.option("--webhook-secret", default=None, help="Secret of webhooks you created by hand.")
@click.option("--query-string-auth", is_flag=True, help="Send keys as query parameters (hosts that strip Authorization).")
@click.option("--name", default="", help="Display name for customers (default: the store's own site title).")
@click.option("--handling-days", type=click.IntRange(0, 365), default=None)
@click.option("--default-lead-days", type=click.IntRange(0, 365), default=None)
@click.option("--templates-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="A folder of notice templates that override the shipped ones for this shop.")
@click.option("--no-verify", is_flag=True, help=VERIFY_HELP)
@click.pass_obj
def add_woocommerce(services: Services, store_url: str, key: str, secret: str, webhook_secret: str | None,
                    query_string_auth: bool, name: str, handling_days: int | None, default_lead_days: int | None,
                    templates_dir: str | None, no_verify: bool) -> None:
    """Register a WooCommerce store; its key is checked with one read before it is stored."""
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
    shop, profile = register_shop(services, "woocommerce", url, api_url=None, name=name, credentials=credentials,
                                  settings=settings, verify=not no_verify)
    click.echo(_added(shop, profile))


def _state(shop: Shop) -> str:
    if not shop.active:
        return "uninstalled"
    if shop.disabled_at is not None:
        return "disabled"
    if shop.sync_failed_at is not None:
        return "sync failing"
    return "ok" if shop.sync_ok_at else "never synced"


@shops_group.group("connect")
def connect_group() -> None:
    """Start a store's own approval flow (the store owner approves; the connector verifies the key)."""


@connect_group.command("woocommerce")
@click.option("--url", "store_url", required=True, help="The store's URL, e.g. https://shop.example.com.")
@click.pass_obj
def connect_woocommerce(services: Services, store_url: str) -> None:
    """Print the address where the store owner approves a read/write key for the connector.

    The store sends the key to APP_URL/auth/woocommerce/callback, so `connector serve` must be reachable
    there; the key is checked with one read before it is stored. The address works once, for 30 minutes."""
    from connector.web.install_woocommerce import USER_LIFETIME, begin_install

    target = begin_install(services, store_url, source="--url")
    minutes = int(USER_LIFETIME.total_seconds() // 60)
    click.echo(f"Open this address, logged in to the store's WordPress admin, within {minutes} minutes:", err=True)
    click.echo(target)


@shops_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_obj
def list_shops(services: Services, as_json: bool) -> None:
    """List registered stores with their state, last sync and the scopes a store has not granted (never
    their credentials)."""
    with services.db.session() as session:
        shops = list(session.scalars(select(Shop).order_by(Shop.id)))
        if as_json:
            print_json([
                {"id": s.id, "platform": s.platform, "domain": s.domain, "name": s.name, "state": _state(s),
                 "active": s.active, "disabled_at": when(s.disabled_at), "installed_at": when(s.created_at),
                 "last_good_sync": when(s.sync_ok_at), "sync_failed_at": when(s.sync_failed_at),
                 "sync_error": s.sync_error, "sync_hint": s.sync_hint, "missing_scopes": _missing(s)}
                for s in shops
            ])
            return
        table = Table("id", "platform", "domain", "name", "state", "last good sync", "problem", "installed",
                      "missing scopes")
        for s in shops:
            problem = f"{s.sync_error} ({s.sync_failed_at:%Y-%m-%d %H:%M})" if s.sync_failed_at else ""
            table.add_row(str(s.id), s.platform, s.domain, s.name, _state(s),
                          s.sync_ok_at.strftime("%Y-%m-%d %H:%M") if s.sync_ok_at else "never", problem,
                          s.created_at.strftime("%Y-%m-%d %H:%M"), _missing(s))
    if not shops:
        click.echo("no shops yet; `connector shops add shopify|woocommerce ...` adds one")
        return
    console().print(table)


def _describe(services: Services, shop_ref: str) -> tuple[int, str]:
    with services.db.session() as session:
        shop = get_shop(session, shop_ref)
        return shop.id, f"shop {shop.id} {shop.label} ({shop.platform}, {shop.domain})"


@shops_group.command("disable")
@click.argument("shop_ref", metavar="SHOP")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def disable_command(services: Services, shop_ref: str, yes: bool) -> None:
    """Pause SHOP (id or domain): no sync, reconcile, store write or notice until it is enabled again.
    Webhooks are still received and stored, so nothing is lost."""
    shop_id, label = _describe(services, shop_ref)
    confirm(f"Disable {label}? It is not synced and nothing is written to it or sent to its customers "
            "until `connector shops enable`", yes)
    with services.db.session() as session:
        disable_shop(session, shop_id)
    click.echo(f"disabled {label}")


@shops_group.command("enable")
@click.argument("shop_ref", metavar="SHOP")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def enable_command(services: Services, shop_ref: str, yes: bool) -> None:
    """Resume a disabled SHOP: the worker syncs it, reconciles and carries out its queued writes."""
    shop_id, label = _describe(services, shop_ref)
    confirm(f"Enable {label}? The worker syncs it and carries out the writes and notices queued for it", yes)
    with services.db.session() as session:
        enable_shop(session, shop_id)
    click.echo(f"enabled {label}; the next worker pass syncs it")


@shops_group.command("remove")
@click.argument("shop_ref", metavar="SHOP")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def remove_command(services: Services, shop_ref: str, yes: bool) -> None:
    """Remove SHOP and everything stored for it: orders, decisions, queued actions, its own feeds,
    credentials and schedule. The store itself is not touched."""
    shop_id, label = _describe(services, shop_ref)
    confirm(f"Remove {label} and all its data from the connector? This cannot be undone", yes)
    with services.db.session() as session:
        counts = remove_shop(session, shop_id, outbox_dir=services.settings.outbox_dir)
    click.echo(f"removed {label}: {counts}")


def _missing(shop: Shop) -> str:
    """The scopes the last check found missing ("" when none; "not checked" before the first sync)."""
    report = shop.setting(ACCESS_SETTING, None)
    if not isinstance(report, dict):
        return "not checked"
    return ", ".join(str(scope) for scope in report.get("missing") or [])
