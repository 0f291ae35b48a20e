"""Stores one verified webhook delivery in the inbox; a repeated delivery id is a no-op."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from connector.store.models import InboxItem, utcnow
from connector.store.repo import insert_or_ignore


def store_delivery(
    session: Session,
    *,
    platform: str,
    delivery_id: str,
    topic: str,
    shop_domain: str,
    shop_id: int | None,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Insert the delivery unless (platform, delivery id) is already stored; True when new.

    The caller commits before answering the platform, so an acknowledged delivery is never lost.
    """
    now = utcnow()
    return insert_or_ignore(
        session,
        InboxItem.__table__,
        {
            "platform": platform,
            "delivery_id": delivery_id[:200],
            "topic": topic[:100],
            "shop_domain": shop_domain[:255],
            "shop_id": shop_id,
            "headers": dict(headers),
            "body": body,
            "received_at": now,
            "next_attempt_at": now,
            "status": "pending",
            "attempts": 0,
        },
        ("platform", "delivery_id"),
    )
