"""Cancel and refund: a customer's "cancel" (or the mail-order rule's timeout) becomes one outbox action.

How it works: `request_cancel` records one `Cancellation` per order (unique key `shop:order:cancel`,
insert-or-ignore, so a second click or a racing clock finds the first) naming the still-backordered
units, and the whole order when nothing of it shipped and every unit waits. Under `cancel_mode`:

    automatic  the cancel action is queued at once (decided by "automatic")
    approve    it waits on the dashboard's queue until a merchant approves (queued) or declines it
    off        it is only recorded, for the merchant to handle by hand

The executor runs a `cancel` action through `Platform.cancel_units`, which re-reads the order first:
a refund already carrying the cancel's marker counts as done, so a worker killed between the refund
and its record makes no second refund. Success is recorded in one transaction with the customer's
confirmation notice (`cancelled`); a refund the store or its payment gateway refuses becomes a
`failed` cancellation with the gateway's message, shown on the dashboard and never retried on its own.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.engine.mailorder import refund_due_by
from connector.errors import InputError, UserError
from connector.platforms.base import CancelLine, CancelOutcome, CancelRequest, Platform
from connector.settings import Settings
from connector.store.models import (
    Action,
    Cancellation,
    LineDecision,
    Order,
    OrderDecision,
    OrderLine,
    Shop,
    utcnow,
)
from connector.store.repo import insert_or_ignore

log = logging.getLogger(__name__)

CANCEL_KIND = "cancel"
CANCEL_MODES = ("automatic", "approve", "off")
REASONS = ("customer", "no_consent")
OPEN_STATUSES = ("awaiting_approval", "queued")


def cancel_mode(shop: Shop, settings: Settings) -> str:
    """The shop's own `cancel_mode`, else the connector's CANCEL_MODE."""
    mode = str(shop.setting("cancel_mode", settings.cancel_mode))
    if mode not in CANCEL_MODES:
        raise InputError(f"shop {shop.id} setting cancel_mode", f"{mode!r} is not one of {', '.join(CANCEL_MODES)}")
    return mode


def restock_wanted(shop: Shop, settings: Settings) -> bool:
    return bool(shop.setting("restock_cancelled", settings.restock_cancelled))


def cancel_key(shop_id: int, order_id: int) -> str:
    return f"{shop_id}:{order_id}:{CANCEL_KIND}"


def marker_for(key: str) -> str:
    """The reference a store refund carries so a re-read recognizes it (short: it is also Shopify's
    idempotency key)."""
    return "backorder-connector:" + hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class CancelPlan:
    lines: list[dict[str, Any]]
    whole_order: bool


def backordered_units(session: Session, order: Order) -> CancelPlan:
    """The order's still-backordered units, per line; the whole order when none of it has shipped and
    every unit is backordered."""
    decisions = {row.order_line_id: row for row in session.scalars(
        select(LineDecision).join(OrderLine, OrderLine.id == LineDecision.order_line_id)
        .where(OrderLine.order_id == order.id))}
    lines: list[dict[str, Any]] = []
    whole = True
    for line in order.lines:
        decision = decisions.get(line.id)
        waiting = min(decision.backordered, line.open_quantity) if decision else 0
        if waiting > 0:
            lines.append({"line_id": line.platform_id, "sku": line.sku, "title": line.title, "quantity": waiting})
        if line.quantity > 0 and (line.open_quantity < line.quantity or waiting < line.quantity):
            whole = False
    return CancelPlan(lines, whole and bool(lines))


def request_cancel(session: Session, shop: Shop, order: Order, *, reason: str, today: date,
                   settings: Settings) -> Cancellation | None:
    """Record (once) that the order's backordered units are to be cancelled and refunded, and queue the
    cancel when `cancel_mode` is automatic. None when nothing of the order is backordered any more."""
    if reason not in REASONS:
        raise ValueError(f"unknown cancel reason {reason!r}")
    key = cancel_key(shop.id, order.id)
    existing = session.scalar(select(Cancellation).where(Cancellation.order_id == order.id))
    if existing is not None:
        return existing
    plan = backordered_units(session, order)
    if not plan.lines or not order.is_open:
        return None
    mode = cancel_mode(shop, settings)
    status = {"automatic": "queued", "approve": "awaiting_approval", "off": "off"}[mode]
    now = utcnow()
    insert_or_ignore(session, Cancellation.__table__, {
        "idempotency_key": key, "shop_id": shop.id, "order_id": order.id, "reason": reason, "status": status,
        "whole_order": plan.whole_order, "lines": plan.lines, "requested_on": today,
        "refund_due_by": refund_due_by(today), "requested_at": now,
        "decided_at": now if mode == "automatic" else None, "decided_by": "automatic" if mode == "automatic" else None,
    }, ("idempotency_key",))
    row = session.scalar(select(Cancellation).where(Cancellation.idempotency_key == key))
    assert row is not None
    if row.status == "queued":
        _queue_action(session, shop, row, settings)
    log.info("order %s of shop %s: cancel requested (%s), %s", order.name, shop.id, reason, row.status)
    return row


def _queue_action(session: Session, shop: Shop, row: Cancellation, settings: Settings) -> None:
    """The one cancel action of the order, through the outbox (its key: `shop:order:cancel:once`)."""
    from connector.pipeline.outbox import queue_action

    marker = marker_for(row.idempotency_key)
    queue_action(session, shop, row.order_id, CANCEL_KIND, marker[-20:], "once",
                 {"cancellation_id": row.id, "lines": row.lines, "whole_order": row.whole_order, "marker": marker,
                  "restock": restock_wanted(shop, settings)})


def decide(session: Session, row: Cancellation, *, approve: bool, who: str, settings: Settings) -> bool:
    """The merchant's Approve or Decline of a cancel waiting in the queue; False when it was not waiting."""
    if row.status != "awaiting_approval":
        return False
    row.decided_at = utcnow()
    row.decided_by = who[:100]
    if not approve:
        row.status = "declined"
        return True
    shop = session.get(Shop, row.shop_id)
    assert shop is not None
    row.status = "queued"
    session.flush()
    _queue_action(session, shop, row, settings)
    return True


def request_from_payload(payload: dict[str, Any]) -> CancelRequest:
    return CancelRequest(
        lines=tuple(CancelLine(str(line["line_id"]), int(line["quantity"])) for line in payload.get("lines", [])),
        whole_order=bool(payload.get("whole_order")),
        marker=str(payload["marker"]),
        restock=bool(payload.get("restock", True)),
        note="Cancelled by the backorder connector at the customer's request",
        earlier_markers=tuple(str(m) for m in payload.get("earlier_markers", [])),
    )


def carry_out(platform: Platform, order_ref: str, payload: dict[str, Any]) -> CancelOutcome:
    """Cancel and refund through the store (it re-reads first; see `Platform.cancel_units`)."""
    return platform.cancel_units(order_ref, request_from_payload(payload))


def record_done(session: Session, action: Action, outcome: CancelOutcome, worker_id: str) -> None:
    """The store refunded: settle the action and the cancellation, tell the customer (one transaction)."""
    row = session.get(Action, action.id)
    if row is None or row.status != "pending":
        return
    row.status = "done"
    row.finished_at = utcnow()
    row.worker_id = worker_id
    row.receipt = outcome.refund_id[:500]
    row.last_error = "the store already had this refund" if outcome.already_done else None
    cancellation = session.get(Cancellation, (action.payload or {}).get("cancellation_id"))
    if cancellation is None:
        return
    cancellation.status = "done"
    cancellation.refund_amount = outcome.amount
    cancellation.currency = outcome.currency
    cancellation.refund_ref = outcome.refund_id[:200]
    cancellation.refunded_at = utcnow()
    cancellation.error = None
    _queue_confirmation(session, cancellation, outcome)


def record_refused(session: Session, action: Action, error: UserError, worker_id: str) -> None:
    """The store or its gateway refused: visible on the dashboard with its words, not retried."""
    row = session.get(Action, action.id)
    if row is not None and row.status == "pending":
        row.status = "dead"
        row.attempts += 1
        row.finished_at = utcnow()
        row.worker_id = worker_id
        row.last_error = f"refund refused, not retried: {error}"[:2000]
    cancellation = session.get(Cancellation, (action.payload or {}).get("cancellation_id"))
    if cancellation is not None:
        cancellation.status = "failed"
        cancellation.error = str(error)[:2000]
    log.warning("cancel action %s refused by the store: %s", action.id, error)


def retry_failed(session: Session, row: Cancellation, who: str) -> bool:
    """The merchant fixed what the gateway refused and asks for the refund again (a fresh attempt of the
    same action, so a refund that did go through after all is still found by its marker)."""
    if row.status != "failed":
        return False
    action = session.scalar(select(Action).where(Action.order_id == row.order_id, Action.kind == CANCEL_KIND))
    if action is None:
        return False
    payload = dict(action.payload or {})
    earlier = [*payload.get("earlier_markers", []), payload["marker"]]
    # A new marker, so a store that keeps the declined refund (Shopify) makes a new one under a new key.
    payload.update(earlier_markers=earlier, marker=marker_for(f"{row.idempotency_key}:retry{len(earlier)}"))
    action.payload = payload
    action.status = "pending"
    action.next_attempt_at = utcnow()
    action.finished_at = None
    row.status = "queued"
    row.decided_by = who[:100]
    row.decided_at = utcnow()
    return True


def _queue_confirmation(session: Session, cancellation: Cancellation, outcome: CancelOutcome) -> None:
    """The customer's confirmation: what was cancelled, the amount refunded and when it arrives."""
    order = session.get(Order, cancellation.order_id)
    decision = session.scalar(select(OrderDecision).where(OrderDecision.order_id == cancellation.order_id))
    if order is None:
        return
    ref = f"cancelled:{cancellation.id}"
    payload = {"notice": "cancelled", "ref": ref, "eta": None, "lines": [
        {"line_id": line["line_id"], "sku": line.get("sku"), "title": line.get("title") or "",
         "quantity": int(line["quantity"]), "eta": None} for line in cancellation.lines],
        "refund_amount": outcome.amount, "currency": outcome.currency,
        "refund_by": cancellation.refund_due_by.isoformat(), "whole_order": cancellation.whole_order}
    from connector.pipeline.outbox import CONTACT_WITHHELD, queue_action

    now = utcnow()
    shop = session.get(Shop, cancellation.shop_id)
    assert shop is not None
    skipped = CONTACT_WITHHELD if order.contact_withheld and not order.customer_email else None
    queue_action(session, shop, order.id, "notify", ref, ref, payload, skipped)
    if decision is not None:
        # Nothing is awaited any more for what was cancelled: no "ready" notice may follow it.
        decision.notice_kind = "cancelled"
        decision.notice_eta = None
        decision.notice_on = now.date()
