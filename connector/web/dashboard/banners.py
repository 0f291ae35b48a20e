"""What a shop's pages warn about at the top: what the store does not let the connector do, and webhooks
that are off. Read from what the last sync and webhook check recorded; nothing here calls the store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.models import Shop, WebhookSubscription
from connector.store.repo import ACCESS_SETTING


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
    hooks = db.scalars(select(WebhookSubscription)
                       .where(WebhookSubscription.shop_id == shop.id, WebhookSubscription.status.in_(("disabled", "paused")))
                       .order_by(WebhookSubscription.topic))
    for hook in hooks:
        banners.append(Banner(f"Webhook {hook.topic} is {hook.status}", hook.status_note or "",
                              "warn" if hook.status == "disabled" else "info"))
    return banners
