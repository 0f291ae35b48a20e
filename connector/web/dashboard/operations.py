"""The dashboard's own writes (handled choices) and the reconcile preview.

Manual resend and release actions are queued by the outbox (`connector.pipeline.requested`), the one
writer of action rows. Replaying a dead delivery uses `connector.pipeline.inbox.replay`; running
reconcile for real uses `connector.pipeline.outbox.reconcile_and_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.pipeline.reconcile import reconcile_shop
from connector.store.models import CustomerChoice, Order, OrderDecision, Shop, utcnow


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
