"""Actions a person asks for on the dashboard (resend a notice, release a hold), queued by the outbox.

The outbox (`pipeline/outbox.py`) is the one writer of action rows: these go through its `queue_action`
like every planned action, each with a fresh idempotency key and `manual: true` in its payload, so the
history shows a person asked for it and the workers carry it out like any other.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import InputError
from connector.pipeline.outbox import queue_action
from connector.store.models import Action, Order, OrderDecision, Shop


def _queue_manual(session: Session, order: Order, kind: str, payload: dict[str, Any], fingerprint: str) -> None:
    shop = session.get(Shop, order.shop_id)
    if shop is None:
        raise InputError(f"order {order.name}", "belongs to no shop")
    queue_action(session, shop, order.id, kind, fingerprint, f"manual-{uuid.uuid4().hex}", {**payload, "manual": True})
    session.flush()


def _fingerprint(session: Session, order_id: int) -> str:
    return session.scalar(select(OrderDecision.fingerprint).where(OrderDecision.order_id == order_id)) or "manual"


def queue_resend(session: Session, order: Order) -> None:
    """Queue the order's latest notice again as a new, manually requested notify action.

    The notice reference gets a fresh suffix so the copy has its own Message-ID (mail systems drop a
    message whose id they have already seen) and its own choice link.
    """
    latest = session.scalar(
        select(Action).where(Action.order_id == order.id, Action.kind == "notify").order_by(Action.id.desc()).limit(1)
    )
    if latest is None:
        raise InputError(f"order {order.name}", "has had no customer notice yet, so there is nothing to resend")
    payload = dict(latest.payload or {})
    base_ref = str(payload.get("resent_from") or payload.get("ref") or latest.fingerprint)
    payload["resent_from"] = base_ref
    payload["ref"] = f"{base_ref}-resend-{uuid.uuid4().hex[:8]}"
    _queue_manual(session, order, "notify", payload, latest.fingerprint)


def queue_release(session: Session, order: Order) -> None:
    """Queue a release of the order's fulfilment hold (the worker writes it to the store)."""
    latest = session.scalar(
        select(Action.kind)
        .where(Action.order_id == order.id, Action.kind.in_(("hold", "release")))
        .order_by(Action.id.desc())
        .limit(1)
    )
    if latest != "hold":
        raise InputError(f"order {order.name}", "has no fulfilment hold to release")
    _queue_manual(session, order, "release", {}, _fingerprint(session, order.id))
