"""The notice-storm brake: a reconcile that would tell too many waiting customers their delivery date changed is held.

How it works: the outbox planner (`outbox.reconcile_and_queue`) plans a reconcile's actions inside a
savepoint, then asks `storm` whether the delay notices it would send to customers already waiting
(told about a delay that is not over) exceed NOTICE_BRAKE_MAX, or both NOTICE_BRAKE_MIN and
NOTICE_BRAKE_SHARE of those customers. If so the savepoint is rolled back: no store write, note,
hold or notice of that reconcile is queued, and nothing is marked as pushed. A `HeldReconcile` row
records what would have changed and why (the feeds imported since the shop's last push, and per
SKU the ETA and its source before and after) under a key naming the exact set of changes.

The merchant then sends it (`send_held`: the planner queues the changes, bypassing the brake only
when they are still exactly the ones shown) or discards it (`discard_held`: the same set of changes
is not held again, nor sent; a different set is judged afresh). A later reconcile that finds the
same changes keeps the held row; one whose changes no longer trip the brake (the feed was fixed)
plans them normally and marks the row `cleared`.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from connector.errors import InputError
from connector.notify.policy import DELAY_KINDS
from connector.store.models import (
    Action,
    FeedImport,
    HeldReconcile,
    Order,
    OrderDecision,
    Shop,
    Supplier,
    utcnow,
)

if TYPE_CHECKING:
    from connector.pipeline.reconcile import OrderChange
    from connector.services import Services

SHOWN_ORDERS = 200
SHOWN_SKUS = 100


@dataclass(frozen=True, slots=True)
class BrakeLimits:
    share: float  # of the waiting customers
    min_notices: int  # a share counts only from this many notices on
    max_notices: int  # this many always trips (0: no absolute limit)

    @classmethod
    def from_settings(cls, settings: Any) -> BrakeLimits:
        return cls(settings.notice_brake_share, settings.notice_brake_min, settings.notice_brake_max)

    def trips(self, notices: int, waiting: int) -> bool:
        if notices <= 0:
            return False
        if self.max_notices and notices > self.max_notices:
            return True
        return notices >= self.min_notices and notices > self.share * waiting

    def explain(self, notices: int, waiting: int) -> str:
        share = f"{100 * notices / waiting:.0f}%" if waiting else "all"
        return (f"this reconcile would tell {notices} of the {waiting} customers waiting for a backorder that "
                f"their delivery date changed ({share}; the brake holds more than "
                f"{100 * self.share:.0f}% from {self.min_notices} notices on"
                + (f", or more than {self.max_notices}" if self.max_notices else "") + ")")


@dataclass
class PlannedNotice:
    order_id: int
    kind: str
    to_waiting_customer: bool  # the customer was already told about a delay that is not over


@dataclass
class PlanReport:
    """What one planning pass queued: rows inserted, per kind, and the customer notices among them."""

    inserted: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    notices: list[PlannedNotice] = field(default_factory=list)

    @property
    def storm_notices(self) -> int:
        return sum(1 for n in self.notices if n.kind in DELAY_KINDS and n.to_waiting_customer)


def change_key(changes: Sequence[OrderChange]) -> str:
    """Names one exact set of order changes (order and new decision), whatever order they come in."""
    parts = sorted(f"{change.order_id}:{change.fingerprint}" for change in changes)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def waiting_customers(session: Session, shop_id: int) -> int:
    """Open orders whose customer was told about a delay that is not over."""
    return int(session.scalar(
        select(func.count()).select_from(OrderDecision).join(Order, Order.id == OrderDecision.order_id)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True), OrderDecision.notice_kind.in_(sorted(DELAY_KINDS)))
    ) or 0)


def latest_held(session: Session, shop_id: int) -> HeldReconcile | None:
    """The shop's most recent held or discarded reconcile that has not been settled otherwise."""
    return session.scalar(
        select(HeldReconcile).where(HeldReconcile.shop_id == shop_id, HeldReconcile.status.in_(("held", "discarded")))
        .order_by(HeldReconcile.id.desc()).limit(1)
    )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _before_lines(session: Session, order_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Per order, its lines as last written to the store (the newest marks action): line id -> line."""
    found: dict[int, dict[str, dict[str, Any]]] = {}
    if not order_ids:
        return found
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        for order_id, payload in session.execute(
            select(Action.order_id, Action.payload).where(Action.order_id.in_(chunk), Action.kind == "marks")
            .order_by(Action.id)
        ):
            found[order_id] = {str(line.get("line_id")): line for line in (payload or {}).get("lines", [])}
    return found


def _changed_feeds(session: Session, shop_id: int, since: datetime | None) -> list[dict[str, Any]]:
    """The feeds of the shop imported (or removed rows) since its last push, with their row counts before and after."""
    suppliers = list(session.scalars(
        select(Supplier).where(or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}"))
        .order_by(Supplier.name)
    ))
    feeds = []
    for supplier in suppliers:
        if since is not None and (supplier.imported_at is None or supplier.imported_at <= since):
            continue
        history = list(session.scalars(
            select(FeedImport).where(FeedImport.supplier_id == supplier.id, FeedImport.outcome == "imported")
            .order_by(FeedImport.id.desc()).limit(2)
        ))
        previous = history[1] if len(history) > 1 else None
        feeds.append({
            "supplier": supplier.name, "scope": supplier.scope, "imported_at": _iso_time(supplier.imported_at),
            "rows": supplier.row_count, "units": supplier.unit_count,
            "previous_rows": previous.rows if previous else None, "previous_units": previous.units if previous else None,
        })
    return feeds


def _iso_time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summarize(session: Session, shop: Shop, changes: Sequence[OrderChange], report: PlanReport, waiting: int,
              limits: BrakeLimits) -> dict[str, Any]:
    """What the held reconcile would have changed and why, for the merchant to judge (stored as JSON)."""
    ids = [change.order_id for change in changes]
    names = {}
    for start in range(0, len(ids), 500):
        names.update(dict(session.execute(
            select(Order.id, Order.name).where(Order.id.in_(ids[start : start + 500]))).tuples().all()))
    told = {}
    for start in range(0, len(ids), 500):
        told.update({d.order_id: d for d in session.scalars(
            select(OrderDecision).where(OrderDecision.order_id.in_(ids[start : start + 500])))})
    before = _before_lines(session, ids)
    notice_of = {n.order_id: n.kind for n in report.notices}
    skus: dict[str, dict[str, Any]] = defaultdict(lambda: {"orders": 0, "units": 0, "before": Counter(),
                                                          "after": Counter(), "before_eta": Counter(),
                                                          "after_eta": Counter()})
    orders: list[dict[str, Any]] = []
    for change in changes:
        decision = told.get(change.order_id)
        old_lines = before.get(change.order_id, {})
        for line in change.plan.lines:
            if line.backordered <= 0 and str(line.line_id) not in old_lines:
                continue
            old = old_lines.get(str(line.line_id), {})
            if old.get("eta") == _iso(line.eta) and old.get("source") == line.eta_source:
                continue
            entry = skus[line.sku or "(no SKU)"]
            entry["orders"] += 1
            entry["units"] += line.backordered
            entry["before"][old.get("source") or ("not backordered" if not old else "unknown")] += 1
            entry["after"][line.eta_source or ("no longer backordered" if line.backordered <= 0 else "unknown")] += 1
            entry["before_eta"][old.get("eta") or "none"] += 1
            entry["after_eta"][_iso(line.eta) or "none"] += 1
        if len(orders) < SHOWN_ORDERS:
            orders.append({
                "order_id": change.order_id, "name": names.get(change.order_id, str(change.order_id)),
                "told_eta": _iso(decision.notice_eta) if decision and decision.notice_kind else None,
                "told": decision.notice_kind if decision else None,
                "status": change.plan.status, "eta": _iso(change.plan.eta), "notice": notice_of.get(change.order_id),
            })
    shown_skus = sorted(skus.items(), key=lambda item: (-item[1]["orders"], item[0]))[:SHOWN_SKUS]
    last_push = session.scalar(
        select(func.max(OrderDecision.pushed_at)).join(Order, Order.id == OrderDecision.order_id)
        .where(Order.shop_id == shop.id)
    )
    return {
        "why": limits.explain(report.storm_notices, waiting),
        "notices": dict(Counter(n.kind for n in report.notices)),
        "writes": dict(report.kinds),
        "orders_changed": len(changes),
        "feeds": _changed_feeds(session, shop.id, last_push),
        "since": _iso_time(last_push),
        "skus": [
            {"sku": sku, "orders": e["orders"], "units": e["units"],
             "before": [f"{text} ({count})" for text, count in e["before"].most_common(3)],
             "after": [f"{text} ({count})" for text, count in e["after"].most_common(3)],
             "before_eta": [f"{text} ({count})" for text, count in e["before_eta"].most_common(3)],
             "after_eta": [f"{text} ({count})" for text, count in e["after_eta"].most_common(3)]}
            for sku, e in shown_skus
        ],
        "skus_total": len(skus),
        "orders": orders,
    }


def hold(session: Session, shop: Shop, key: str, summary: dict[str, Any], report: PlanReport, waiting: int,
         orders: int) -> HeldReconcile:
    """Record (or refresh) the held reconcile for `key`; an older held one of the shop is superseded."""
    now = utcnow()
    current = latest_held(session, shop.id)
    if current is not None and current.change_key == key:
        current.updated_at = now
        return current
    if current is not None and current.status == "held":
        current.status = "superseded"
        current.decided_at = now
    held = HeldReconcile(shop_id=shop.id, status="held", change_key=key, notices=report.storm_notices,
                         waiting=waiting, orders=orders, summary=summary, created_at=now, updated_at=now)
    session.add(held)
    session.flush()
    return held


def settle(session: Session, shop_id: int, status: str) -> None:
    """The shop's held reconcile no longer stands: its changes were sent, or no longer trip the brake."""
    current = latest_held(session, shop_id)
    if current is not None:
        current.status = status
        current.decided_at = current.decided_at or utcnow()


# --- the merchant's answer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendOutcome:
    sent: bool  # False: the changes were no longer the ones shown (a fresh review is needed)
    queued: int
    held: HeldReconcile | None  # what stands held now, if anything


def get_held(session: Session, held_id: int) -> HeldReconcile:
    held = session.get(HeldReconcile, held_id)
    if held is None:
        raise InputError(f"held reconcile {held_id}", "no such held reconcile; `connector held list` shows them")
    return held


def send_held(services: Services, held_id: int, *, by: str) -> SendOutcome:
    """Queue a held reconcile's writes and notices, if its changes are still exactly the ones shown."""
    from connector.pipeline.outbox import reconcile_and_queue

    with services.db.session() as session:
        held = get_held(session, held_id)
        if held.status != "held":
            raise InputError(f"held reconcile {held_id}", f"is {held.status}; only a held one can be sent")
        shop_id = held.shop_id
    result, queued = reconcile_and_queue(services, shop_id, as_of=utcnow().date(), approve=held_id)
    with services.db.session() as session:
        held = get_held(session, held_id)
        if held.status == "sent" or (result is not None and result.held is None):
            # Sent as shown, or things changed since but no longer make a storm, so they went out as usual.
            held.decided_by = by[:100]
            return SendOutcome(True, queued, None)
        return SendOutcome(False, queued, latest_held(session, shop_id) if result is not None else None)


def discard_held(services: Services, held_id: int, *, by: str) -> HeldReconcile:
    """Drop a held reconcile: its changes are neither written nor held again; new changes are judged afresh."""
    with services.db.session() as session:
        held = get_held(session, held_id)
        if held.status != "held":
            raise InputError(f"held reconcile {held_id}", f"is {held.status}; only a held one can be discarded")
        held.status = "discarded"
        held.decided_at = utcnow()
        held.decided_by = by[:100]
        return held


def held_for_shops(session: Session, shop_ids: list[int]) -> list[HeldReconcile]:
    """The held reconciles waiting for the merchant, of the given shops."""
    if not shop_ids:
        return []
    return list(session.scalars(
        select(HeldReconcile).where(HeldReconcile.shop_id.in_(shop_ids), HeldReconcile.status == "held")
        .order_by(HeldReconcile.id)
    ))
