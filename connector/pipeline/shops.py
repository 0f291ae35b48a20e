"""An operator's control over a whole shop: check its credentials, pause it, resume it, or remove it with everything
stored for it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from connector.services import Services

from connector.errors import AuthError, ConnectorError, InputError, ShopNotFound
from connector.pipeline.gdpr import erase_shop
from connector.pipeline.health import explain
from connector.pipeline.scheduler import SYNC, mark_due, mark_reconcile, shop_target
from connector.platforms.base import ShopProfile
from connector.store.models import Action, Order, Shop, Supplier, utcnow
from connector.store.repo import save_credentials


def _shop(session: Session, shop_id: int) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise ShopNotFound(f"no shop {shop_id}; `connector shops list` shows the shops")
    return shop


def disable_shop(session: Session, shop_id: int) -> None:
    """Pause the shop: the worker neither syncs nor reconciles it, and its queued actions wait."""
    shop = _shop(session, shop_id)
    if shop.disabled_at is None:
        shop.disabled_at = utcnow()


def enable_shop(session: Session, shop_id: int) -> None:
    """Resume a paused shop: a sync and a reconcile are due at once, and its queued actions run again."""
    shop = _shop(session, shop_id)
    shop.disabled_at = None
    mark_due(session, SYNC, shop_target(shop_id))
    mark_reconcile(session, shop_id)


def remove_shop(session: Session, shop_id: int, *, outbox_dir: Path | None = None) -> str:
    """Delete the shop and everything held for it (orders, decisions, actions, its own feeds, deliveries,
    schedule, credentials, and its customers' .eml notices); returns what went, in words."""
    shop = _shop(session, shop_id)
    orders = session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id)) or 0
    actions = session.scalar(select(func.count()).select_from(Action).where(Action.shop_id == shop_id)) or 0
    feeds = session.scalar(select(func.count()).select_from(Supplier).where(Supplier.shop_id == shop_id)) or 0
    erase_shop(session, shop, outbox_dir=outbox_dir)
    return f"{orders} orders, {actions} queued or past actions and {feeds} shop-only feeds deleted"


def verify_credentials(services: Services, platform: str, domain: str, *, api_url: str | None,
                       credentials: dict[str, object], settings: dict[str, object],
                       unreachable_hint: str = "try again once the store answers") -> ShopProfile:
    """One read through the platform with credentials not stored yet: the store's name, or why it refused.

    Refused credentials raise InputError with the store's reason (exit 2); a store that cannot be
    reached raises ConnectorError saying so, with `unreachable_hint` (the CLI points at --no-verify)."""
    probe = Shop(platform=platform, domain=domain, name="", api_url=api_url, settings=dict(settings), active=True)
    save_credentials(probe, services.box, **credentials)
    try:
        client = services.platform_for(probe)
        try:
            return client.shop_profile()
        finally:
            client.close()
    except AuthError as error:
        raise InputError(domain, f"the store refused these credentials: {error}") from None
    except ConnectorError as error:
        reason = explain(error).reason
        raise ConnectorError(f"{domain}: could not check the credentials: {reason}; nothing was stored "
                             f"({unreachable_hint})") from None
