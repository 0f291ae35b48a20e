"""Stores one verified webhook delivery in the inbox; a repeated delivery id is a no-op."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import JSON, LargeBinary, TextClause, bindparam, text
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from connector.store.models import UTCDateTime, utcnow

def _insert(*columns: str) -> TextClause:
    """The INSERT of a delivery with these extra columns, written out once so the hot path skips
    SQLAlchemy's per-call compilation of ON CONFLICT inserts; SQLite (3.35+) and PostgreSQL take it as it is."""
    names = ", ".join(("platform", "delivery_id", "topic", "shop_domain", "shop_id", "headers", "body", *columns))
    values = ", ".join(f":{name}" for name in names.split(", "))
    return text(
        f"INSERT INTO inbox ({names}, received_at, next_attempt_at, status, attempts)"
        f" VALUES ({values}, :received_at, :received_at, 'pending', 0)"
        " ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING id"
    ).bindparams(
        bindparam("headers", type_=JSON()),
        bindparam("body", type_=LargeBinary()),
        bindparam("received_at", type_=UTCDateTime()),
    )


_INSERT = _insert()
# A delivery over the body limit: recorded (verified) without its body, so a sync can fetch what it announced.
_INSERT_WITHOUT_BODY = _insert("body_omitted")


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
    body_omitted: int | None = None,
) -> bool:
    """Insert the delivery unless (platform, delivery id) is already stored; True when new.

    The caller commits before answering the platform, so an acknowledged delivery is never lost.
    `body_omitted`: the body was over the limit and is not stored; this many bytes were left out.
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
    if body_omitted is not None:
        values.update(body=b"", body_omitted=body_omitted)
        return session.execute(_INSERT_WITHOUT_BODY, values).first() is not None
    return session.execute(_INSERT, values).first() is not None
