"""FIFO allocation of stock to open order lines and ETAs for what stays backordered."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter

from connector.engine.lateness import LatenessModel
from connector.engine.supply import SupplyEvent, events_from_rows, rows_by_sku
from connector.engine.types import (
    IN_STOCK,
    NO_SUPPLY,
    SUPPLY_RUNS_OUT,
    LinePlan,
    Order,
    OrderLine,
    OrderPlan,
    Plan,
    Policy,
    SupplyRow,
)

_UNBOUNDED = float("inf")


def is_open_line(order: Order, line: OrderLine) -> bool:
    """An order line still waiting to ship: order open, has a SKU, needs shipping, units unfulfilled."""
    return order.is_open and bool(line.sku) and line.requires_shipping and line.open_quantity > 0


def order_id_key(order_id: str) -> tuple[int, int, str]:
    """Sort key for order ids: all-digit ids compare as numbers and come before any other id;
    other ids compare as strings. (Comparing "numerically when both are digits, else as text"
    pair by pair is not a consistent order, so this key makes the rule total.)"""
    if order_id.isdigit() and order_id.isascii():
        return (0, int(order_id), order_id)
    return (1, 0, order_id)


def _utc_seconds(created: datetime) -> float:
    # A float timestamp keeps distinct microseconds distinct for centuries around now, and sorting
    # plain floats avoids a utcoffset() call per comparison of aware datetimes.
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.timestamp()


def priority_key(order: Order) -> tuple[float, int, int, str]:
    """Who gets stock first: created time ascending (compared in UTC), ties broken by `order_id_key`."""
    return (_utc_seconds(order.created_at), *order_id_key(order.order_id))


def cumulative_supply(events: list[SupplyEvent]) -> tuple[list[float], list[SupplyEvent]]:
    """Running totals of units supplied after each event (an unbounded event ends the list),
    so the event that supplies waiting unit number n is found by bisection."""
    totals: list[float] = []
    used: list[SupplyEvent] = []
    total = 0
    for event in events:
        used.append(event)
        if event.quantity is None:
            totals.append(_UNBOUNDED)
            break
        total += event.quantity
        totals.append(total)
    return totals, used


def make_plan(
    orders: Iterable[Order],
    stock: Mapping[str, int],
    supply: Iterable[SupplyRow],
    as_of: date,
    policy: Policy = Policy(),
    lateness: LatenessModel | None = None,
    confidence: float | None = None,
) -> Plan:
    """Allocate `stock` to open order lines in priority order and date every backordered unit.

    Only lines whose SKU has a stock record take part: a SKU without one is untracked and is never
    backordered, so such lines are left out of the plan (as are SKU-less, non-shipping and finished
    lines). Negative stock (oversold) counts as none. Each line takes `min(open quantity, stock left)`;
    the rest is backordered and, in the same priority order, consumes the SKU's supply events in
    arrival order (see `supply_events`). A backordered line's ETA is the arrival of the event that
    supplies its last unit plus `policy.handling_days`; None when supply runs out first.

    `lateness` (a learned model) shifts promised restocks by the supplier's lateness at `confidence`
    (default `policy.eta_confidence`)
    and gives each dated line and order its range, `eta_earliest` (p50) to `eta_latest` (p90). With no
    model, or an empty one, the plan is exactly what it was without: the range is the ETA itself.
    """
    # The two loops below see every line of a whole store's backlog, so helpers such as
    # is_open_line, priority_key and supply_events are inlined and hot names bound locally.
    candidates: list[tuple[tuple[float, int, int, str], Order]] = []
    add_candidate = candidates.append
    for order in orders:
        if not order.is_open:
            continue
        created = order.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        order_id = order.order_id
        if order_id.isdigit() and order_id.isascii():
            add_candidate(((created.timestamp(), 0, int(order_id), order_id), order))
        else:
            add_candidate(((created.timestamp(), 1, 0, order_id), order))
    candidates.sort(key=itemgetter(0))

    supply_rows = rows_by_sku(supply)
    if confidence is None:
        confidence = policy.eta_confidence
    stock_left = {sku: max(units, 0) for sku, units in stock.items()}
    supply_by_sku: dict[str, tuple[list[float], list[SupplyEvent]]] = {}  # built when a SKU first runs short
    waiting: dict[str, int] = {}  # backordered units per SKU so far, in priority order
    handling = timedelta(days=policy.handling_days)
    line_plan = LinePlan
    in_stock = IN_STOCK

    order_plans: list[OrderPlan] = []
    add_order = order_plans.append
    for _key, order in candidates:
        line_plans: list[LinePlan] = []
        add_line = line_plans.append
        backordered_any = False
        eta_known = True
        latest: date | None = None
        range_low: date | None = None
        range_high: date | None = None
        for line in order.lines:
            sku = line.sku
            wanted_units = line.open_quantity
            if wanted_units <= 0 or not sku or not line.requires_shipping:
                continue
            left = stock_left.get(sku)
            if left is None:  # untracked SKU
                continue
            if wanted_units <= left:
                stock_left[sku] = left - wanted_units
                add_line(line_plan(line.line_id, sku, wanted_units, wanted_units, 0, None, in_stock))
                continue
            if left:
                stock_left[sku] = 0
            short = wanted_units - left
            backordered_any = True
            position = waiting.get(sku, 0) + short  # this line's last unit, counted across the SKU
            waiting[sku] = position
            found = supply_by_sku.get(sku)
            if found is None:
                sku_rows = supply_rows.get(sku, ())
                found = supply_by_sku[sku] = cumulative_supply(
                    events_from_rows(sku_rows, as_of, policy, lateness, confidence))
            totals, sku_events = found
            index = bisect_left(totals, position)
            if index == len(totals):
                eta_known = False
                source = SUPPLY_RUNS_OUT if totals else NO_SUPPLY
                add_line(line_plan(line.line_id, sku, wanted_units, left, short, None, source))
                continue
            event = sku_events[index]
            eta = event.arrival + handling
            if latest is None or eta > latest:
                latest = eta
            low = eta if event.earliest is None else event.earliest + handling
            high = eta if event.latest is None else event.latest + handling
            if range_low is None or low > range_low:
                range_low = low
            if range_high is None or high > range_high:
                range_high = high
            add_line(line_plan(line.line_id, sku, wanted_units, left, short, eta, event.source, low, high))
        if not line_plans:
            continue
        if backordered_any:
            if eta_known:
                add_order(OrderPlan(order.order_id, order.name, "backordered", latest, tuple(line_plans),
                                    range_low, range_high))
            else:
                add_order(OrderPlan(order.order_id, order.name, "backordered", None, tuple(line_plans)))
        else:
            add_order(OrderPlan(order.order_id, order.name, "ok", None, tuple(line_plans)))
    return Plan(as_of, tuple(order_plans))
