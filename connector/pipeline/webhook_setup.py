"""Puts a shop's webhooks in place and records them, with their sealed secrets and the state the store reports.

Called after an install or authorization, and again by every periodic sync for every shop (it is
idempotent and clears `webhooks_pending`). Stale or duplicate subscriptions are removed; a webhook the
merchant paused is left paused; one the store disabled after failed deliveries is turned back on only
after a test delivery to the intake got through. Each is recorded with its status and why, for the
dashboard.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connector.errors import ConnectorError
from connector.platforms import kind_of
from connector.platforms.base import WebhookInfo
from connector.services import Services
from connector.settings import Settings
from connector.store.models import Shop, WebhookSubscription, utcnow
from connector.store.repo import insert_or_ignore, upsert

log = logging.getLogger(__name__)

PENDING_SETTING = "webhooks_pending"
STATUS_OF = {"created": "active", "reenabled": "active", "unchanged": "active", "paused": "paused",
             "disabled": "disabled"}


def webhook_address(app_url: str, shop: Shop) -> str:
    """Where the shop's store delivers its webhooks."""
    return app_url + kind_of(shop.platform).intake_path(shop.id)


def webhook_topics(shop: Shop, settings: Settings | None = None) -> tuple[str, ...]:
    """The topics to subscribe the shop to; none where the app's configuration declares them and is
    deployed (SHOPIFY_APP_WEBHOOKS for shopify.app.toml): the shop's own would double every delivery."""
    app_declared = settings is not None and settings.shopify_app_webhooks
    return kind_of(shop.platform).subscribed_topics(app_declared=app_declared)


def _known_secrets(session: Session, services: Services, shop: Shop) -> dict[str, str]:
    """Webhook id -> secret for the shop's recorded webhooks, and "*" -> the shop's own webhook secret."""
    found: dict[str, str] = {}
    rows = session.execute(select(WebhookSubscription.platform_id, WebhookSubscription.secret)
                           .where(WebhookSubscription.shop_id == shop.id))
    for platform_id, sealed in rows:
        secret = services.box.open(sealed).get("secret") if sealed else None
        if secret:
            found[str(platform_id)] = str(secret)
    shared = services.box.open(shop.credentials).get("webhook_secret") if shop.credentials else None
    if shared:
        found["*"] = str(shared)
    return found


def ensure_shop_webhooks(services: Services, shop_id: int) -> bool:
    """Create, remove or re-enable the shop's webhooks and record them; False (logged) when the store failed.

    A webhook this call created comes back with its own secret, stored sealed as {"secret": ...}
    in webhook_subscriptions; rows already recorded keep the secret they have.
    """
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        known = _known_secrets(session, services, shop) if shop is not None else {}
    if shop is None:
        return False
    try:
        platform = services.platform_for(shop)
        try:
            hooks = list(platform.ensure_webhooks(webhook_address(services.settings.app_url, shop),
                                                  webhook_topics(shop, services.settings), secrets=known))
        finally:
            platform.close()
    except ConnectorError as exc:
        log.warning("shop %s: setting up webhooks failed (%s); the periodic sync retries", shop_id, exc)
        return False
    except Exception as exc:  # noqa: BLE001 - never let webhook set-up break an install; the flag stays set for a retry
        log.warning("shop %s: setting up webhooks failed (%s); the periodic sync retries", shop_id, type(exc).__name__)
        return False
    with services.db.session() as session:
        for hook in hooks:
            _record(session, services, shop_id, hook)
        stored = session.get(Shop, shop_id)
        if stored is not None:
            stored.set_setting(PENDING_SETTING, None)
    kept = [hook for hook in hooks if hook.action != "removed"]
    off = [hook for hook in kept if STATUS_OF[hook.action] != "active"]
    log.info("shop %s: %d webhooks in place%s", shop_id, len(kept) - len(off),
             f", {len(off)} paused or disabled" if off else "")
    return True


def _record(session: Session, services: Services, shop_id: int, hook: WebhookInfo) -> None:
    if hook.action == "removed":
        session.execute(delete(WebhookSubscription).where(WebhookSubscription.shop_id == shop_id,
                                                          WebhookSubscription.platform_id == hook.id))
        return
    now = utcnow()
    values = {"shop_id": shop_id, "platform_id": hook.id, "topic": hook.topic[:100], "created_at": now}
    if hook.secret:
        sealed = services.box.seal({"secret": hook.secret})
        upsert(session, WebhookSubscription.__table__, {**values, "secret": sealed}, ("shop_id", "platform_id"))
    else:
        insert_or_ignore(session, WebhookSubscription.__table__, {**values, "secret": None}, ("shop_id", "platform_id"))
    row = session.scalar(select(WebhookSubscription).where(WebhookSubscription.shop_id == shop_id,
                                                            WebhookSubscription.platform_id == hook.id))
    if row is not None:
        row.status = STATUS_OF[hook.action]
        row.status_note = hook.note
        row.checked_at = now
