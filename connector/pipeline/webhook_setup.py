"""Puts a shop's webhooks in place (create, re-enable) and records them with their sealed secrets.

Called after an install or authorization, and meant to be called again by the periodic sync for
every shop (it is idempotent, re-enables webhooks a store disabled, and clears `webhooks_pending`).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from connector.errors import ConnectorError
from connector.platforms.base import WebhookInfo
from connector.services import Services
from connector.store.models import Shop, WebhookSubscription, utcnow
from connector.store.repo import insert_or_ignore, upsert

log = logging.getLogger(__name__)

PENDING_SETTING = "webhooks_pending"
# Shopify's compliance topics (customers/*, shop/redact) are set in the Partner Dashboard, not here.
SHOPIFY_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "inventory_levels/update",
    "app/uninstalled",
    "bulk_operations/finish",
)
WOOCOMMERCE_TOPICS = ("order.created", "order.updated", "order.deleted", "product.updated")


def webhook_address(app_url: str, shop: Shop) -> str:
    """Where the shop's store delivers its webhooks."""
    if shop.platform == "woocommerce":
        return f"{app_url}/webhooks/woocommerce/{shop.id}"
    return f"{app_url}/webhooks/shopify"


def webhook_topics(shop: Shop) -> tuple[str, ...]:
    return WOOCOMMERCE_TOPICS if shop.platform == "woocommerce" else SHOPIFY_TOPICS


def ensure_shop_webhooks(services: Services, shop_id: int) -> bool:
    """Create or re-enable the shop's webhooks and record them; False (logged) when the store failed.

    A webhook this call created comes back with its own secret, stored sealed as {"secret": ...}
    in webhook_subscriptions; rows already recorded keep the secret they have.
    """
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
    if shop is None:
        return False
    try:
        platform = services.platform_for(shop)
        try:
            hooks = list(platform.ensure_webhooks(webhook_address(services.settings.app_url, shop), webhook_topics(shop)))
        finally:
            platform.close()
    except ConnectorError as exc:
        log.warning("shop %s: setting up webhooks failed (%s); the periodic sync retries", shop_id, exc)
        return False
    except Exception as exc:  # never let webhook set-up break an install; the flag stays set for a retry
        log.warning("shop %s: setting up webhooks failed (%s); the periodic sync retries", shop_id, type(exc).__name__)
        return False
    with services.db.session() as session:
        for hook in hooks:
            _record(session, services, shop_id, hook)
        stored = session.get(Shop, shop_id)
        if stored is not None:
            stored.set_setting(PENDING_SETTING, None)
    log.info("shop %s: %d webhooks in place", shop_id, len(hooks))
    return True


def _record(session: Session, services: Services, shop_id: int, hook: WebhookInfo) -> None:
    values = {"shop_id": shop_id, "platform_id": hook.id, "topic": hook.topic[:100], "created_at": utcnow()}
    if hook.secret:
        sealed = services.box.seal({"secret": hook.secret})
        upsert(session, WebhookSubscription.__table__, {**values, "secret": sealed}, ("shop_id", "platform_id"))
    else:
        insert_or_ignore(session, WebhookSubscription.__table__, {**values, "secret": None}, ("shop_id", "platform_id"))
