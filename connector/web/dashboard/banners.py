"""What a shop's pages warn about at the top: what the store does not let the connector do, and webhooks
that are off. Read from what the last sync and webhook check recorded; nothing here calls the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.models import Shop, WebhookSubscription, utcnow
from connector.store.repo import ACCESS_SETTING, REVOKE_NOTICE_DAYS, REVOKE_SETTING


@dataclass(frozen=True, slots=True)
class Banner:
    title: str
    detail: str
    level: str = "warn"  # warn or info


def shop_banners(db: Session, shop: Shop) -> list[Banner]:
    banners: list[Banner] = []
    report = shop.setting(ACCESS_SETTING, None)
    if isinstance(report, dict):
        for problem in report.get("problems") or []:
            if isinstance(problem, dict):
                banners.append(Banner(str(problem.get("title", "")), str(problem.get("detail", ""))))
    revoke = _key_to_revoke(shop)
    if revoke is not None:
        banners.append(revoke)
    hooks = db.scalars(select(WebhookSubscription)
                       .where(WebhookSubscription.shop_id == shop.id, WebhookSubscription.status.in_(("disabled", "paused")))
                       .order_by(WebhookSubscription.topic))
    for hook in hooks:
        banners.append(Banner(f"Webhook {hook.topic} is {hook.status}", hook.status_note or "",
                              "warn" if hook.status == "disabled" else "info"))
    return banners


def _key_to_revoke(shop: Shop) -> Banner | None:
    """The replaced WooCommerce key the store owner should delete (WooCommerce has no API for it)."""
    value = shop.setting(REVOKE_SETTING, None)
    if not isinstance(value, dict) or not isinstance(value.get("key_id"), int):
        return None
    try:
        replaced_at = datetime.fromisoformat(str(value.get("at")))
    except ValueError:
        return None
    if replaced_at.tzinfo is None:
        replaced_at = replaced_at.replace(tzinfo=UTC)
    if utcnow() - replaced_at > timedelta(days=REVOKE_NOTICE_DAYS):
        return None
    return Banner(f"Revoke the replaced WooCommerce key (key id {value['key_id']})",
                  f"A newer key was approved and verified on {replaced_at:%Y-%m-%d}; the connector no longer uses "
                  "the old one, but it still works. WooCommerce has no API to revoke a key: delete it under "
                  "WooCommerce > Settings > Advanced > REST API.", "info")
