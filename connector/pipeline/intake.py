"""Stores one verified webhook delivery in the inbox; a repeated delivery id is a no-op."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import JSON, LargeBinary, bindparam, text
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from connector.store.models import UTCDateTime, utcnow

# Written out once, so the hot path skips SQLAlchemy's per-call compilation of ON CONFLICT inserts;
# both SQLite (3.35+) and PostgreSQL take this text as it is.
_INSERT = text(
    "INSERT INTO inbox (platform, delivery_id, topic, shop_domain, shop_id, headers, body, received_at,"
    " next_attempt_at, status, attempts)"
    " VALUES (:platform, :delivery_id, :topic, :shop_domain, :shop_id, :headers, :body, :received_at,"
    " :received_at, 'pending', 0)"
    " ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING id"
).bindparams(
    bindparam("headers", type_=JSON()),
    bindparam("body", type_=LargeBinary()),
    bindparam("received_at", type_=UTCDateTime()),
)


def store_delivery(
    session: Session | Connection,
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
    values = {
        "platform": platform,
        "delivery_id": delivery_id[:200],
        "topic": topic[:100],
        "shop_domain": shop_domain[:255],
        "shop_id": shop_id,
        "headers": dict(headers),
        "body": body,
        "received_at": utcnow(),
    }
    return session.execute(_INSERT, values).first() is not None
