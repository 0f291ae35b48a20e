"""An operator's control over a whole shop: pause it, resume it, or remove it with everything stored for it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.errors import ShopNotFound
from connector.pipeline.gdpr import erase_shop
from connector.pipeline.scheduler import SYNC, mark_due, mark_reconcile, shop_target
from connector.store.models import Action, Order, Shop, Supplier, utcnow


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
