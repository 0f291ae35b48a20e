"""The mail-order rule's clock over the store: each waiting order's deadline, notices, consent and cancel.

`order_rule` computes an order's state (`connector.engine.mailorder.rule_state`) from what the record
shows: the delay notices sent (the outbox's `notify` rows as sent), the customer's answers
(`customer_choices`) and whether anything backordered is still to ship. `run_rule_clock` runs after
every reconcile of a shop (and so on the worker's schedule) and keeps the rule:

* a customer's "cancel" becomes a cancel request (`pipeline.cancels`, under `cancel_mode`);
* a deadline that is about to pass unshipped gets its delay notice now, even when the ETA did not
  change (the date told is then "not known yet", which asks for an explicit answer), past the
  one-notice-a-day limit and the notice brake: the rule does not wait for them;
* a renewed notice left unanswered past its answer-by day becomes a cancel request (`no_consent`).

`consent_terms` tells the outbox planner whether a delay notice it is about to queue is the first
(consent by silence) or a renewed one (explicit consent, with the answer-by day the notice states).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.engine.mailorder import (
    Answer,
    RuleState,
    SentNotice,
    answer_by,
    delay_notice_due,
    notice_needed,
    rule_state,
)
from connector.notify.compose import notice_lines_to_payload
from connector.notify.policy import (
    DELAY_KINDS,
    NoticeLine,
    NoticeState,
    notice_fingerprint,
)
from connector.settings import Settings
from connector.store.models import (
    Action,
    CustomerChoice,
    LineDecision,
    Order,
    OrderDecision,
    OrderLine,
    Shop,
    utcnow,
)

log = logging.getLogger(__name__)

WAITING_NOTICE = ("pending", "sending")


@dataclass
class ClockReport:
    notices: int = 0  # delay notices the rule made go out
    cancels: list[int] = field(default_factory=list)  # orders whose cancel was requested


def _delay_notices(session: Session, order_id: int) -> list[SentNotice]:
    rows = session.execute(
        select(Action.payload, Action.finished_at, Action.started_at, Action.created_at)
        .where(Action.order_id == order_id, Action.kind == "notify", Action.status == "sent")
        .order_by(Action.id)
    )
    found = []
    for payload, finished, started, created in rows:
        if (payload or {}).get("notice") not in DELAY_KINDS:
            continue
        # The shop's day the notice was planned for (it goes out within minutes), else the day it was sent.
        told = payload.get("told_on")
        sent_on = date.fromisoformat(told) if told else (finished or started or created).date()
        eta = payload.get("eta")
        found.append(SentNotice(sent_on, date.fromisoformat(eta) if eta else None))
    return found


def _answers(session: Session, order_id: int) -> list[Answer]:
    rows = session.execute(select(CustomerChoice.chosen_at, CustomerChoice.choice)
                           .where(CustomerChoice.order_id == order_id))
    return [Answer(chosen.date(), choice) for chosen, choice in rows if choice in ("wait", "cancel")]


def order_rule(session: Session, order: Order, today: date) -> RuleState | None:
    """The order's state under the rule, or None while no delay notice has gone out for it."""
    notices = _delay_notices(session, order.id)
    if not notices:
        return None
    decision = session.scalar(select(OrderDecision).where(OrderDecision.order_id == order.id))
    shipped = not order.is_open or decision is None or decision.status != "backordered"
    return rule_state(order.created_at.date(), notices, _answers(session, order.id), today, shipped=shipped)


def consent_terms(session: Session, order: Order, eta: date | None, today: date) -> dict[str, Any]:
    """What a delay notice stating `eta`, queued today, asks of the customer (merged into its payload)."""
    state = order_rule(session, order, today)
    if state is None:
        return {}
    need = notice_needed(state, eta)
    if need == "renewed":
        return {"consent": "explicit", "answer_by": answer_by(state, today).isoformat()}
    if need == "delay":
        return {"consent": "silent"}
    return {}


def _waiting_notice(session: Session, order_id: int) -> bool:
    return session.scalar(select(Action.id).where(Action.order_id == order_id, Action.kind == "notify",
                                                  Action.status.in_(WAITING_NOTICE)).limit(1)) is not None


def _notice_lines(session: Session, order_id: int) -> list[NoticeLine]:
    rows = session.execute(
        select(OrderLine, LineDecision).join(LineDecision, LineDecision.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id, LineDecision.backordered > 0).order_by(OrderLine.id))
    return [NoticeLine(line.platform_id, line.sku, line.title, ld.backordered, ld.eta, ld.reason) for line, ld in rows]


def _queue_rule_notice(session: Session, shop: Shop, order: Order, decision: OrderDecision, state: RuleState,
                       today: date) -> bool:
    """The delay notice the rule needs now: the current ETA if it is later than the deadline in force,
    else no date (which asks for an explicit answer)."""
    from connector.pipeline.outbox import queue_action

    assert state.in_force is not None
    eta = decision.eta if decision.eta is not None and decision.eta > state.in_force else None
    lines = _notice_lines(session, order.id)
    previous = NoticeState(decision.notice_kind, decision.notice_eta, decision.notice_on)  # type: ignore[arg-type]
    ref = notice_fingerprint("eta_changed", eta, lines, previous=previous)
    payload: dict[str, Any] = {"notice": "eta_changed", "ref": ref, "eta": eta.isoformat() if eta else None,
                               "previous_eta": decision.notice_eta.isoformat() if decision.notice_eta else None,
                               "lines": notice_lines_to_payload(lines), "rule": True, "told_on": today.isoformat()}
    payload.update(consent_terms(session, order, eta, today))
    if order.contact_withheld or not order.customer_email:
        return False
    queued = queue_action(session, shop, order.id, "notify", ref, ref, payload)
    decision.notice_kind = "eta_changed"
    decision.notice_eta = eta
    decision.notice_on = today
    return queued


def run_rule_clock(session: Session, shop: Shop, today: date, settings: Settings) -> ClockReport:
    """Keep the rule for every waiting order of `shop` today (see the module docstring)."""
    from connector.pipeline.cancels import cancel_mode, request_cancel

    report = ClockReport()
    mode = cancel_mode(shop, settings)
    chosen = session.execute(
        select(CustomerChoice, Order).join(Order, Order.id == CustomerChoice.order_id)
        .where(CustomerChoice.shop_id == shop.id, CustomerChoice.choice == "cancel",
               CustomerChoice.handled_at.is_(None)))
    for choice, order in chosen.all():
        if mode == "off":
            continue  # the merchant handles it by hand (the choice stays on their list)
        if request_cancel(session, shop, order, reason="customer", today=today, settings=settings) is not None:
            report.cancels.append(order.id)
        choice.handled_at = utcnow()
    waiting = session.execute(
        select(Order, OrderDecision).join(OrderDecision, OrderDecision.order_id == Order.id)
        .where(Order.shop_id == shop.id, Order.is_open.is_(True), OrderDecision.status == "backordered",
               OrderDecision.notice_kind.in_(tuple(DELAY_KINDS))))
    for order, decision in waiting.all():
        state = order_rule(session, order, today)
        if state is None:
            continue
        if state.phase == "cancel_due":
            if request_cancel(session, shop, order, reason="no_consent", today=today, settings=settings):
                report.cancels.append(order.id)
            continue
        due = delay_notice_due(state, decision.eta, today) and not _waiting_notice(session, order.id)
        if due and _queue_rule_notice(session, shop, order, decision, state, today):
            report.notices += 1
            log.info("order %s of shop %s: delay notice queued before the deadline of %s", order.name, shop.id,
                         state.in_force)
    session.flush()
    return report


PHASE_TEXT = {
    "on_time": "within the deadline",
    "consented": "delay accepted by silence (first delay notice)",
    "awaiting_consent": "renewed notice sent: waiting for the customer's explicit \"keep waiting\"",
    "consented_explicitly": "the customer chose to keep waiting",
    "cancel_due": "no answer to the renewed notice: treated as cancelled",
    "cancel_chosen": "the customer chose to cancel",
    "closed": "nothing backordered left to ship",
}


@dataclass(frozen=True)
class RuleSummary:
    """An order's state under the rule, as the order page shows it."""

    state: RuleState
    phase_text: str
    notices: list[dict[str, Any]]  # each delay notice told: day, date stated, what it asked
    refund_due_by: date | None
    cancel_status: str | None
    refund_amount: str | None


def rule_summary(session: Session, order: Order, today: date) -> RuleSummary | None:
    """The order page's "Mail-order rule" box; None while no delay notice was sent."""
    from connector.store.models import Cancellation

    state = order_rule(session, order, today)
    if state is None:
        return None
    told = []
    for payload, status in session.execute(
            select(Action.payload, Action.status).where(Action.order_id == order.id, Action.kind == "notify")
            .order_by(Action.id)):
        payload = payload or {}
        if payload.get("notice") not in DELAY_KINDS and payload.get("notice") != "cancelled":
            continue
        asks = {"explicit": f"explicit consent by {payload.get('answer_by')}",
                "silent": "consent by silence"}.get(str(payload.get("consent")), "the choice to wait or cancel")
        if payload.get("notice") == "cancelled":
            asks = f"confirmation: {payload.get('currency', '')} {payload.get('refund_amount', '')} refunded"
        told.append({"kind": payload.get("notice"), "on": payload.get("told_on"), "eta": payload.get("eta"),
                     "asks": asks, "status": status, "rule": bool(payload.get("rule"))})
    cancellation = session.scalar(select(Cancellation).where(Cancellation.order_id == order.id))
    return RuleSummary(state, PHASE_TEXT[state.phase], told,
                       cancellation.refund_due_by if cancellation else None,
                       cancellation.status if cancellation else None,
                       cancellation.refund_amount if cancellation else None)
