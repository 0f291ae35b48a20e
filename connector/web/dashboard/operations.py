"""The dashboard's writes: manual resend and release actions, handled choices, and the reconcile preview.

Queued actions go into the same outbox the workers drain (`actions`), each with a fresh idempotency
key and `manual: true` in its payload, so the history shows a person asked for it. Replaying a dead
delivery uses `connector.pipeline.inbox.replay`; running reconcile for real uses
`connector.pipeline.outbox.reconcile_and_plan`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import InputError
from connector.pipeline.outbox import action_key
from connector.pipeline.reconcile import reconcile_shop
from connector.store.models import Action, CustomerChoice, Order, OrderDecision, Shop, utcnow


@dataclass(frozen=True, slots=True)
class PreviewLine:
    sku: str
    backordered: int
    eta: date | None
    eta_source: str | None


@dataclass(frozen=True, slots=True)
class PreviewChange:
    """One order whose decision would change: what it was, what it would become."""

    order_id: int
    order_name: str
    before_status: str | None
    before_eta: date | None
    after_status: str
    after_eta: date | None
    lines: tuple[PreviewLine, ...]


def _queue_manual(db: Session, order: Order, kind: str, payload: dict[str, Any], fingerprint: str) -> Action:
    now = utcnow()
    action = Action(
        idempotency_key=action_key(order.shop_id, order.id, kind, f"manual-{uuid.uuid4().hex}"),
        shop_id=order.shop_id, order_id=order.id, kind=kind, fingerprint=fingerprint,
        payload={**payload, "manual": True}, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    )
    db.add(action)
    db.flush()
    return action


def _fingerprint(db: Session, order_id: int) -> str:
    return db.scalar(select(OrderDecision.fingerprint).where(OrderDecision.order_id == order_id)) or "manual"


def queue_resend(db: Session, order: Order) -> Action:
    """Queue the order's latest notice again as a new, manually requested notify action.

    The notice reference gets a fresh suffix so the copy has its own Message-ID (mail systems drop a
    message whose id they have already seen) and its own choice link.
    """
    latest = db.scalar(
        select(Action).where(Action.order_id == order.id, Action.kind == "notify").order_by(Action.id.desc()).limit(1)
    )
    if latest is None:
        raise InputError(f"order {order.name}", "has had no customer notice yet, so there is nothing to resend")
    payload = dict(latest.payload or {})
    base_ref = str(payload.get("resent_from") or payload.get("ref") or latest.fingerprint)
    payload["resent_from"] = base_ref
    payload["ref"] = f"{base_ref}-resend-{uuid.uuid4().hex[:8]}"
    return _queue_manual(db, order, "notify", payload, latest.fingerprint)


def queue_release(db: Session, order: Order) -> Action:
    """Queue a release of the order's fulfilment hold (the worker writes it to the store)."""
    latest = db.scalar(
        select(Action.kind)
        .where(Action.order_id == order.id, Action.kind.in_(("hold", "release")))
        .order_by(Action.id.desc())
        .limit(1)
    )
    if latest != "hold":
        raise InputError(f"order {order.name}", "has no fulfilment hold to release")
    return _queue_manual(db, order, "release", {}, _fingerprint(db, order.id))


def mark_choice_handled(db: Session, choice: CustomerChoice) -> None:
    if choice.handled_at is None:
        choice.handled_at = utcnow()


def preview_reconcile(db: Session, shop: Shop, as_of: date, policy: Any) -> list[PreviewChange]:
    """What a reconcile would change, computed with `dry_run=True` in a transaction that is rolled back."""
    try:
        result = reconcile_shop(db, shop, as_of, policy, dry_run=True)
        ids = [change.order_id for change in result.changes]
        names = dict(db.execute(select(Order.id, Order.name).where(Order.id.in_(ids))).tuples().all()) if ids else {}
        before = {
            d.order_id: d for d in db.scalars(select(OrderDecision).where(OrderDecision.order_id.in_(ids)))
        } if ids else {}
        changes = []
        for change in result.changes:
            previous = before.get(change.order_id)
            changes.append(
                PreviewChange(
                    order_id=change.order_id,
                    order_name=names.get(change.order_id, str(change.order_id)),
                    before_status=previous.status if previous else None,
                    before_eta=previous.eta if previous else None,
                    after_status=change.plan.status,
                    after_eta=change.plan.eta,
                    lines=tuple(
                        PreviewLine(line.sku, line.backordered, line.eta, line.eta_source)
                        for line in change.plan.lines
                        if line.backordered > 0
                    ),
                )
            )
        return changes
    finally:
        db.rollback()
