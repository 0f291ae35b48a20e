"""Promises kept: what each backordered line's customer was told, when its units were ready, and the report.

A line's promise is its first ETA told in a delay notice; each later notice's ETA is kept in its
history. The line is ready the first time a reconcile finds all its units in stock (plus handling
days, the same footing as an ETA), or the day its order no longer waits on it (shipped). It is kept
when ready by the first date told; a cancelled order's promise counts as cancelled, neither kept nor
missed. A line still waiting after its first date has missed it already.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.engine import OrderPlan
from connector.pipeline.suppliers import supplier_of
from connector.store.models import Action, CustomerChoice, LineDecision, LinePromise, Order, OrderLine, Shop


def record_told(session: Session, shop_id: int, order: Order, plan: OrderPlan, today: date) -> None:
    """A delay notice told the customer `plan`'s ETAs: keep the first per line, and every later one."""
    rows = {line.platform_id: line for line in order.lines}
    known = {p.order_line_id: p for p in session.scalars(select(LinePromise).where(LinePromise.order_id == order.id))}
    for line in plan.lines:
        row = rows.get(line.line_id)
        if row is None or line.backordered <= 0 or line.eta is None:
            continue
        promise = known.get(row.id)
        if promise is None:
            promise = LinePromise(order_line_id=row.id, order_id=order.id, shop_id=shop_id, sku=row.sku,
                                  supplier=supplier_of(line.eta_source), units=line.backordered, first_eta=line.eta,
                                  first_told_on=today, history=[], outcome="waiting")
            session.add(promise)
        elif promise.outcome != "waiting":
            continue
        promise.latest_eta = line.eta
        promise.eta_earliest = line.eta_earliest or line.eta
        promise.eta_latest = line.eta_latest or line.eta
        if not promise.history or promise.history[-1][1] != line.eta.isoformat():
            promise.history = [*(promise.history or []), [today.isoformat(), line.eta.isoformat()]]


def settle_ready(session: Session, shop_id: int, plans: dict[str, OrderPlan], as_of: date, handling_days: int) -> int:
    """After a reconcile: close the waiting promises whose units are ready now. Returns how many closed."""
    waiting = session.execute(
        select(LinePromise, OrderLine.platform_id, Order.platform_id, Order.is_open, Order.status)
        .join(OrderLine, OrderLine.id == LinePromise.order_line_id)
        .join(Order, Order.id == LinePromise.order_id)
        .where(LinePromise.shop_id == shop_id, LinePromise.outcome == "waiting")
    ).all()
    closed = 0
    for promise, line_id, order_id, is_open, status in waiting:
        plan = plans.get(order_id)
        line = next((candidate for candidate in plan.lines if candidate.line_id == line_id), None) if plan else None
        if line is not None and line.backordered > 0:
            continue  # still waiting
        if not is_open and (status or "").startswith("cancelled"):
            promise.outcome = "cancelled"
        else:
            # In stock now: ready after handling. Gone from the plan while open or closed: shipped by today.
            promise.ready_on = as_of + timedelta(days=handling_days) if line is not None else as_of
            promise.outcome = "kept" if promise.ready_on <= promise.first_eta else "missed"
        closed += 1
    return closed


@dataclass
class Outcomes:
    """The report's figures for one shop or one supplier."""

    name: str
    orders: int = 0
    backordered_orders: int = 0
    waits: list[int] = field(default_factory=list)  # days from order to ready
    kept: int = 0
    missed: int = 0
    overdue: int = 0  # still waiting past the first date told
    cancelled: int = 0
    notices: int = 0
    customer_cancels: int = 0
    revenue_waiting: float = 0.0
    units_waiting: int = 0
    unpriced_units: int = 0

    def as_dict(self) -> dict[str, Any]:
        settled = self.kept + self.missed + self.overdue
        return {
            "name": self.name,
            "orders": self.orders,
            "backordered_orders": self.backordered_orders,
            "backorder_rate": round(self.backordered_orders / self.orders, 4) if self.orders else None,
            "median_wait_days": statistics.median(self.waits) if self.waits else None,
            "promises": settled,
            "promises_kept": self.kept,
            "promise_kept_rate": round(self.kept / settled, 4) if settled else None,
            "promises_waiting_overdue": self.overdue,
            "notices_sent": self.notices,
            "customer_cancellations": self.customer_cancels,
            "units_waiting": self.units_waiting,
            "revenue_waiting": round(self.revenue_waiting, 2),
            "units_waiting_unpriced": self.unpriced_units,
        }


def _tally(card: Outcomes, promise: LinePromise, created: date, today: date) -> None:
    if promise.outcome == "kept":
        card.kept += 1
    elif promise.outcome == "missed":
        card.missed += 1
    elif promise.outcome == "cancelled":
        card.cancelled += 1
    elif promise.outcome == "waiting" and promise.first_eta < today:
        card.overdue += 1
    if promise.ready_on is not None and promise.outcome in ("kept", "missed"):
        card.waits.append((promise.ready_on - created).days)


def outcomes_report(session: Session, today: date, since: date | None = None,
                    shop_id: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Per shop and per supplier: backorder rate, median wait, promise-kept rate, notices sent, customer
    cancellations and revenue waiting, for orders created on or after `since` (all when None); of one
    shop's orders only when `shop_id` is given (the dashboard)."""
    shops = {shop.id: shop.label for shop in session.scalars(
        select(Shop).where(*([] if shop_id is None else [Shop.id == shop_id])))}
    by_shop = {key: Outcomes(label) for key, label in shops.items()}
    by_supplier: dict[str, Outcomes] = defaultdict(lambda: Outcomes(""))
    order_filter = [] if since is None else [Order.created_at >= _start_of(since)]
    if shop_id is not None:
        order_filter.append(Order.shop_id == shop_id)
    for key, count in session.execute(select(Order.shop_id, func.count()).where(*order_filter).group_by(Order.shop_id)):
        by_shop[key].orders = count
    backordered = session.execute(
        select(Order.shop_id, func.count(func.distinct(Order.id)))
        .join(LinePromise, LinePromise.order_id == Order.id).where(*order_filter).group_by(Order.shop_id)
    )
    for key, count in backordered:
        by_shop[key].backordered_orders = count
    for promise, created in session.execute(
        select(LinePromise, Order.created_at).join(Order, Order.id == LinePromise.order_id).where(*order_filter)
    ):
        created_day = created.date()
        _tally(by_shop[promise.shop_id], promise, created_day, today)
        if promise.supplier:
            card = by_supplier[promise.supplier]
            card.name = promise.supplier
            _tally(card, promise, created_day, today)
    notices = session.execute(
        select(Action.shop_id, func.count()).join(Order, Order.id == Action.order_id)
        .where(Action.kind == "notify", Action.status == "sent", *order_filter).group_by(Action.shop_id)
    )
    for key, count in notices:
        by_shop[key].notices = count
    cancels = session.execute(
        select(CustomerChoice.shop_id, func.count()).join(Order, Order.id == CustomerChoice.order_id)
        .where(CustomerChoice.choice == "cancel", *order_filter).group_by(CustomerChoice.shop_id)
    )
    for key, count in cancels:
        by_shop[key].customer_cancels = count
    waiting = session.execute(
        select(Order.shop_id, LineDecision.backordered, OrderLine.unit_price, LineDecision.eta_source)
        .join(OrderLine, OrderLine.id == LineDecision.order_line_id).join(Order, Order.id == OrderLine.order_id)
        .where(Order.is_open.is_(True), LineDecision.backordered > 0, *order_filter)
    )
    for key, units, price, source in waiting:
        cards = [by_shop[key]]
        name = supplier_of(source)
        if name:
            by_supplier[name].name = name
            cards.append(by_supplier[name])
        for card in cards:
            card.units_waiting += units
            if price is None:
                card.unpriced_units += units
            else:
                card.revenue_waiting += units * price
    return {"shops": [by_shop[key].as_dict() for key in sorted(by_shop)],
            "suppliers": [by_supplier[name].as_dict() for name in sorted(by_supplier)]}


REPORT_COLUMNS = ("name", "orders", "backordered_orders", "backorder_rate", "median_wait_days", "promises",
                  "promises_kept", "promise_kept_rate", "promises_waiting_overdue", "notices_sent",
                  "customer_cancellations", "units_waiting", "revenue_waiting", "units_waiting_unpriced")


@dataclass(frozen=True, slots=True)
class WeekOutcome:
    """One week of the outcomes charts: orders placed that week, and promises whose first date fell in it."""

    monday: date
    orders: int = 0
    backordered_orders: int = 0
    promises_due: int = 0  # kept, missed, or still waiting past the date
    kept: int = 0

    @property
    def backorder_rate(self) -> float | None:
        return self.backordered_orders / self.orders if self.orders else None

    @property
    def promise_kept_rate(self) -> float | None:
        return self.kept / self.promises_due if self.promises_due else None


def weekly_outcomes(session: Session, today: date, weeks: int = 12, shop_id: int | None = None) -> list[WeekOutcome]:
    """The last `weeks` weeks (Monday first, this week last): the backorder rate by the week orders were
    placed, and the promise-kept rate by the week the first date told fell in, counted as the report
    counts them (a promise still waiting past its date is missed already; a cancelled one is neither)."""
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    scope = [] if shop_id is None else [Order.shop_id == shop_id]
    counts: dict[date, list[int]] = {first + timedelta(weeks=index): [0, 0, 0, 0] for index in range(weeks)}

    def monday_of(moment: datetime | date) -> date:
        day = moment.date() if isinstance(moment, datetime) else moment
        return day - timedelta(days=day.weekday())

    placed = select(Order.created_at).where(Order.created_at >= _start_of(first), *scope)
    for (created,) in session.execute(placed):
        if monday_of(created) in counts:  # an order stamped after today (a store's clock ahead) is left out
            counts[monday_of(created)][0] += 1
    waited = (select(Order.created_at).where(Order.created_at >= _start_of(first), *scope)
              .where(Order.id.in_(select(LinePromise.order_id))))
    for (created,) in session.execute(waited):
        if monday_of(created) in counts:
            counts[monday_of(created)][1] += 1
    due = (select(LinePromise.first_eta, LinePromise.outcome)
           .where(LinePromise.first_eta >= first, LinePromise.first_eta <= today,
                  *([] if shop_id is None else [LinePromise.shop_id == shop_id])))
    for first_eta, outcome in session.execute(due):
        if outcome == "cancelled" or (outcome == "waiting" and first_eta >= today):
            continue
        week = counts[monday_of(first_eta)]
        week[2] += 1
        week[3] += outcome == "kept"
    return [WeekOutcome(monday, *figures) for monday, figures in sorted(counts.items())]


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
