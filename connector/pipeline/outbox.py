"""Outbox planner: turns each changed order decision into durable rows in `actions` for the workers to carry out.

How it works: reconcile lists the orders whose decision fingerprint differs from what was last pushed
(`OrderChange`). For each, `plan_actions` inserts the writes the store and the customer need — tag or
untag, the status/ETA marks, a merchant note, a fulfilment hold or release, and at most one customer
notice chosen by `connector.notify.policy` — each with a unique idempotency key, using
insert-or-ignore on that key so two planners racing on the same change insert each action once. Then, in the same
transaction, the order's `pushed_fingerprint` moves to the new fingerprint: the actions are queued,
and the outbox executor (`pipeline/executor.py`) will carry them out.

The key of a store write is `shop:order:kind:<push key>`, where the push key hashes the new
fingerprint together with the previous push (its fingerprint and time): the same change planned twice
gives the same keys, while an order that goes A -> B -> A gets fresh actions for the second A.
A notice's key is the notify policy's `notice_fingerprint`, which already includes what the customer
was told before. When the one-notice-per-day rule holds a notice back, `pushed_fingerprint` is left
alone, so tomorrow's reconcile sees the change again: its store writes are ignored as duplicates and
the notice goes out then.

After planning, the mail-order rule's clock (`pipeline/mailorder.py`) runs for the shop: it queues
the delay notices and cancels the rule calls for that day, whether or not the reconcile changed anything.

A reconcile is planned inside a savepoint. When it would tell too many waiting customers that their
delivery date changed, the notice brake (`pipeline/brake.py`) rolls the savepoint back and records a
held reconcile instead: nothing of it is queued until the merchant sends it. The brake writes no
action row itself: sending a held reconcile plans it here again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.engine import OrderPlan
from connector.engine.reasons import waiting_supplier
from connector.notify.compose import notice_lines_from_payload, notice_lines_to_payload
from connector.notify.reasons import REASON_SETTING, reason_note
from connector.notify.policy import (
    DELAY_KINDS,
    NoticeLine,
    NoticeState,
    decide_notice,
    notice_fingerprint,
)
from connector.pipeline.outcomes import record_told
from connector.pipeline.payloads import (
    backordered_lines,
    hold_for,
    iso_day,
    marks_payload_with_sources,
    note_text,
    ready_lines,
    split_payload,
)
from connector.pipeline.brake import (
    BrakeLimits,
    PlannedNotice,
    PlanReport,
    change_key,
    hold,
    latest_held,
    settle,
    summarize,
    waiting_customers,
)
from connector.pipeline.mailorder import consent_terms, run_rule_clock
from connector.pipeline.reconcile import (
    CLEARED_FINGERPRINT,
    OrderChange,
    ReconcileResult,
    reconcile_shop,
)
from connector.pipeline.retry import is_postgres
from connector.platforms.base import Capabilities
from connector.platforms import kind_of
from connector.pipeline.storefront import record_variants
from connector.services import Services
from connector.settings import Settings
from connector.store.models import Action, Order, OrderDecision, Shop, utcnow
from connector.store.repo import insert_or_ignore

log = logging.getLogger(__name__)

STORE_KINDS = ("tag", "untag", "marks", "note", "hold", "release", "ship_ready")


def push_key(previous_fingerprint: str | None, previous_pushed_at: datetime | None, fingerprint: str) -> str:
    """Identifies one push of `fingerprint` following the previous push (see module docstring)."""
    previous_at = previous_pushed_at.isoformat() if previous_pushed_at else ""
    raw = f"{previous_fingerprint or ''}|{previous_at}|{fingerprint}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def action_key(shop_id: int, order_id: int, kind: str, fingerprint: str) -> str:
    return f"{shop_id}:{order_id}:{kind}:{fingerprint}"


def ship_ready_wanted(shop: Shop, settings: Settings) -> bool:
    return bool(shop.setting("ship_ready", settings.ship_ready))


# --- planning ------------------------------------------------------------------------------------


def _was_backordered(previous_fingerprint: str | None) -> bool:
    return previous_fingerprint is not None and previous_fingerprint != CLEARED_FINGERPRINT


def _previous_notice_lines(session: Session, order_id: int) -> list[NoticeLine]:
    """The lines the last delay notice named: a "ready" notice tells the customer about those."""
    payload = session.scalar(
        select(Action.payload)
        .where(Action.order_id == order_id, Action.kind == "notify", Action.status != "skipped")
        .order_by(Action.id.desc())
        .limit(1)
    )
    return notice_lines_from_payload(payload.get("lines", [])) if payload else []


OUT_OF_REACH = ("the store no longer shows this order to the connector (older than 60 days, and the "
                "read_all_orders scope is not granted): nothing is written to it")
CONTACT_WITHHELD = ("customer contact not available: the store withholds the customer's contact details from "
                    "the connector (protected customer data not approved)")


def _queue(session: Session, shop: Shop, order_id: int, kind: str, fingerprint: str, key_part: str,
           payload: dict[str, Any], skipped: str | None = None) -> bool:
    """Insert one action (or, with `skipped`, the record of one that cannot be carried out, and why)."""
    now = utcnow()
    # A skipped record has a key of its own, so the real action is still queued once it becomes possible.
    key = action_key(shop.id, order_id, kind, key_part) + (":skipped" if skipped else "")
    return insert_or_ignore(
        session,
        Action.__table__,
        {
            "idempotency_key": key[:200],
            "shop_id": shop.id,
            "order_id": order_id,
            "kind": kind,
            "fingerprint": fingerprint,
            "payload": payload,
            "status": "skipped" if skipped else "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "last_error": skipped,
            "finished_at": now if skipped else None,
        },
        ("idempotency_key",),
    )


queue_action = _queue


def plan_actions(
    session: Session,
    shop: Shop,
    changes: Sequence[OrderChange],
    *,
    capabilities: Capabilities,
    today: date,
    settings: Settings,
) -> PlanReport:
    """Queue the actions for `changes` in the caller's transaction; reports the rows inserted."""
    report = PlanReport()
    holds_wanted = capabilities.holds and bool(shop.setting("holds", True))
    notify_wanted = bool(shop.setting("notify", True))
    for change in changes:
        order = session.get(Order, change.order_id)
        decision = session.scalar(select(OrderDecision).where(OrderDecision.order_id == change.order_id))
        if order is None or decision is None:
            continue
        plan = change.plan
        backordered = plan.status == "backordered"
        was_backordered = _was_backordered(change.previous_fingerprint)
        key = push_key(decision.pushed_fingerprint, decision.pushed_at, change.fingerprint)
        titles = {line.platform_id: line.title for line in order.lines}

        store_writes: list[tuple[str, dict[str, Any]]] = []
        if capabilities.tags and backordered and not was_backordered:
            store_writes.append(("tag", {}))
        if capabilities.tags and not backordered and was_backordered:
            store_writes.append(("untag", {}))
        store_writes.append(("marks", marks_payload_with_sources(plan)))
        store_writes.append(("note", {"text": note_text(plan, titles)}))
        if backordered and ready_lines(plan) and ship_ready_wanted(shop, settings):
            # Ship what's ready: the in-stock units go now, only the backordered ones wait.
            store_writes.append(("ship_ready", split_payload(plan)))
        elif holds_wanted and backordered:
            hold = hold_for(plan)
            store_writes.append(("hold", {"line_ids": list(hold.line_ids), "reason": hold.reason, "notes": hold.notes}))
        if holds_wanted and not backordered and was_backordered:
            store_writes.append(("release", {}))
        skip_writes = OUT_OF_REACH if order.out_of_reach_at is not None else None
        for kind, payload in store_writes:
            if _queue(session, shop, order.id, kind, change.fingerprint, key, payload, skip_writes):
                report.inserted += 1
                report.kinds[kind] += 1

        held_back = False
        if notify_wanted:
            waiting = decision.notice_kind in DELAY_KINDS and order.is_open
            notice, held_back = _plan_notice(session, shop, order, decision, plan, capabilities, today, settings,
                                             report)
            if notice is not None:
                report.inserted += 1
                report.kinds["notify"] += 1
                report.notices.append(PlannedNotice(order.id, notice, waiting))
        if not held_back:
            decision.pushed_fingerprint = change.fingerprint
            decision.pushed_at = utcnow()
    session.flush()
    return report


def _plan_notice(
    session: Session,
    shop: Shop,
    order: Order,
    decision: OrderDecision,
    plan: OrderPlan,
    capabilities: Capabilities,
    today: date,
    settings: Settings,
    report: PlanReport,
) -> tuple[str | None, bool]:
    """Queue the customer notice the change calls for; returns (the kind queued, if a row was inserted;
    held back until tomorrow). A notice recorded as skipped (no contact details) counts in `report`
    as a row, not as a notice."""
    state = (
        NoticeState(decision.notice_kind, decision.notice_eta, decision.notice_on)  # type: ignore[arg-type]
        if decision.notice_kind
        else None
    )
    verdict = decide_notice(state, plan.status, plan.eta, today, settings.eta_improvement_days)
    if verdict.kind is None:
        return None, False
    if verdict.kind == "ready" and not order.is_open:
        # Cancelled or already shipped: "ready to ship" would be false; the store told the customer.
        return None, False
    if not verdict.send_now:
        return None, True
    if not order.customer_email and not capabilities.customer_notes and not order.contact_withheld:
        log.info("order %s of shop %s: no customer email address, no %s notice", order.name, shop.id, verdict.kind)
        return None, False
    if verdict.kind == "ready":
        lines = _previous_notice_lines(session, order.id)
    else:
        titles = {line.platform_id: line.title for line in order.lines}
        texts = shop.setting(REASON_SETTING, None)
        lines = [
            NoticeLine(line.line_id, line.sku, titles.get(line.line_id, ""), line.backordered, line.eta, line.reason,
                       reason_note(texts, line.sku, waiting_supplier(line.eta_source)),
                       line.eta_earliest, line.eta_latest)
            for line in backordered_lines(plan)
        ]
    ref = notice_fingerprint(verdict.kind, plan.eta, lines, previous=state)
    payload = {
        "notice": verdict.kind,
        "ref": ref,
        "eta": iso_day(plan.eta),
        "previous_eta": iso_day(state.last_eta) if state and verdict.kind == "eta_changed" else None,
        "lines": notice_lines_to_payload(lines),
        "told_on": today.isoformat(),  # the shop's day it was planned for (the mail-order rule counts from it)
    }
    if plan.eta is not None and (plan.eta_earliest, plan.eta_latest) not in ((None, None), (plan.eta, plan.eta)):
        payload["eta_earliest"], payload["eta_latest"] = iso_day(plan.eta_earliest), iso_day(plan.eta_latest)
    if verdict.kind in DELAY_KINDS and ready_lines(plan) and ship_ready_wanted(shop, settings):
        titles = {line.platform_id: line.title for line in order.lines}
        payload["ships_now"] = notice_lines_to_payload(
            NoticeLine(line.line_id, line.sku, titles.get(line.line_id, ""), line.allocated, None)
            for line in ready_lines(plan))
    if verdict.kind in DELAY_KINDS:
        # The mail-order rule: a first delay is consented to by silence, a further one needs an answer.
        payload.update(consent_terms(session, order, plan.eta, today))
    if order.contact_withheld:
        # Recorded, not sent: what the customer has been told stays as it was, so once the store lets the
        # connector see their contact details the notice the next change calls for does go out.
        if _queue(session, shop, order.id, "notify", ref, ref, payload, CONTACT_WITHHELD):
            report.inserted += 1
            report.kinds["notify (skipped)"] += 1
        log.info("order %s of shop %s: %s notice skipped, customer contact not available", order.name, shop.id,
                 verdict.kind)
        return None, False
    queued = _queue(session, shop, order.id, "notify", ref, ref, payload)
    if verdict.kind in DELAY_KINDS:
        record_told(session, shop.id, order, plan, today)
    decision.notice_kind = verdict.kind
    decision.notice_eta = None if verdict.kind == "ready" else plan.eta
    decision.notice_on = today
    return (verdict.kind if queued else None), False


def reconcile_and_plan(services: Services, shop_id: int, *, today: date | None = None) -> int:
    """Reconcile one shop and queue its actions in one transaction; returns the actions queued."""
    _, queued = reconcile_and_queue(services, shop_id, as_of=today or utcnow().date())
    return queued


def reconcile_and_queue(
    services: Services, shop_id: int, *, as_of: date, dry_run: bool = False, approve: int | None = None
) -> tuple[ReconcileResult | None, int]:
    """Reconcile one shop and, unless `dry_run`, record the decisions and queue their actions, all
    in one transaction. Returns the result (None for an unknown, uninstalled or paused shop) and the
    count queued.

    A reconcile that would send a storm of delay notices is held by the brake (`pipeline.brake`):
    nothing is queued and `result.held` names the held record. `approve` is the id of a held record
    the merchant chose to send: when the changes are still exactly its changes, they are queued.
    On PostgreSQL the shop row is locked first, so two workers never reconcile the same shop at once.
    """
    with services.db.session() as session:
        query = select(Shop).where(Shop.id == shop_id)
        if is_postgres(session):
            query = query.with_for_update(key_share=True)
        shop = session.scalar(query)
        if shop is None or not shop.active or shop.disabled_at is not None:
            return None, 0
        waiting = 0 if dry_run else waiting_customers(session, shop.id)
        result = reconcile_shop(session, shop, as_of, services.policy, dry_run=dry_run)
        if not dry_run and result.variants is not None and result.stock is not None:
            record_variants(session, shop, result.variants, result.stock.pool_of)  # the storefront's own queue
        if dry_run:
            session.rollback()
            return result, 0
        if not result.changes:
            settle(session, shop.id, "cleared")
            clock = run_rule_clock(session, shop, as_of, services.settings)
            return result, clock.notices + len(clock.cancels)
        capabilities = kind_of(shop.platform).capabilities  # declared by the platform: no client needed
        key = change_key(result.changes)
        current = latest_held(session, shop.id)
        savepoint = session.begin_nested()
        report = plan_actions(
            session, shop, result.changes, capabilities=capabilities, today=as_of, settings=services.settings
        )
        limits = BrakeLimits.from_settings(services.settings)
        approved = approve is not None and current is not None and current.id == approve and current.change_key == key
        if not approved and limits.trips(report.storm_notices, waiting):
            savepoint.rollback()  # nothing of it is queued or marked pushed
            summary = summarize(session, shop, result.changes, report, waiting, limits)
            if current is not None and current.change_key == key and current.status == "discarded":
                result.held = current  # the merchant discarded exactly these changes: they stay unsent
            else:
                result.held = hold(session, shop, key, summary, report, waiting, len(result.changes))
                log.warning("shop %s: reconcile held by the notice brake: %s", shop_id, summary["why"])
            # The mail-order rule does not wait for the merchant's review: its notices and cancels go ahead.
            clock = run_rule_clock(session, shop, as_of, services.settings)
            return result, clock.notices + len(clock.cancels)
        savepoint.commit()
        settle(session, shop.id, "sent" if approved else "cleared")
        clock = run_rule_clock(session, shop, as_of, services.settings)
        queued = report.inserted + clock.notices + len(clock.cancels)
    if result.changes:
        log.info("shop %s: %d orders changed, %d actions queued", shop_id, len(result.changes), queued)
    return result, queued
