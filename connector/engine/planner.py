"""FIFO allocation of stock to open order lines and ETAs for what stays backordered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import itemgetter
from datetime import UTC, date, datetime, timedelta

from connector.engine.supply import SupplyEvent, supply_events
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


class _SkuSupply:
    """Walks one SKU's supply events in arrival order, handing out units in chunks."""

    __slots__ = ("events", "index", "remaining")

    def __init__(self, events: list[SupplyEvent]) -> None:
        self.events = events
        self.index = 0
        self.remaining = events[0].quantity if events else None

    def take(self, units: int) -> SupplyEvent | None:
        """Consume `units`; returns the event that supplies the last one, None once supply runs out."""
        events = self.events
        while self.index < len(events):
            event = events[self.index]
            remaining = self.remaining
            if remaining is None:  # an unbounded restock covers everything still waiting
                return event
            if units < remaining:
                self.remaining = remaining - units
                return event
            units -= remaining
            self._advance()
            if units == 0:
                return event
        return None

    def _advance(self) -> None:
        self.index += 1
        self.remaining = self.events[self.index].quantity if self.index < len(self.events) else None


def make_plan(
    orders: Iterable[Order],
    stock: Mapping[str, int],
    supply: Iterable[SupplyRow],
    as_of: date,
    policy: Policy = Policy(),
) -> Plan:
    """Allocate `stock` to open order lines in priority order and date every backordered unit.

    Only lines whose SKU has a stock record take part: a SKU without one is untracked and is never
    backordered, so such lines are left out of the plan (as are SKU-less, non-shipping and finished
    lines). Negative stock (oversold) counts as none. Each line takes `min(open quantity, stock left)`;
    the rest is backordered and, in the same priority order, consumes the SKU's supply events in
    arrival order (see `supply_events`). A backordered line's ETA is the arrival of the event that
    supplies its last unit plus `policy.handling_days`; None when supply runs out first.
    """
    candidates: list[tuple[tuple[float, int, int, str], Order, list[OrderLine]]] = []
    wanted: set[str] = set()
    for order in orders:
        if not order.is_open:
            continue
        # is_open_line, inlined: this loop sees every line of every order.
        lines = [
            line for line in order.lines
            if line.open_quantity > 0 and line.requires_shipping and line.sku and line.sku in stock
        ]
        if lines:
            candidates.append((priority_key(order), order, lines))
            for line in lines:
                wanted.add(line.sku)  # type: ignore[arg-type]  # the filter above ensured a SKU
    candidates.sort(key=itemgetter(0))

    events = supply_events(supply, as_of, policy, wanted)
    stock_left = {sku: max(stock[sku], 0) for sku in wanted}
    walkers: dict[str, _SkuSupply] = {}
    handling = timedelta(days=policy.handling_days)

    order_plans: list[OrderPlan] = []
    for _key, order, lines in candidates:
        line_plans: list[LinePlan] = []
        backordered_any = False
        eta_known = True
        latest: date | None = None
        for line in lines:
            sku: str = line.sku  # type: ignore[assignment]
            wanted_units = line.open_quantity
            left = stock_left[sku]
            allocated = wanted_units if wanted_units <= left else left
            stock_left[sku] = left - allocated
            short = wanted_units - allocated
            if short == 0:
                line_plans.append(LinePlan(line.line_id, sku, wanted_units, allocated, 0, None, IN_STOCK))
                continue
            backordered_any = True
            walker = walkers.get(sku)
            if walker is None:
                walker = walkers[sku] = _SkuSupply(events.get(sku, []))
            event = walker.take(short)
            if event is None:
                eta_known = False
                source = SUPPLY_RUNS_OUT if walker.events else NO_SUPPLY
                line_plans.append(LinePlan(line.line_id, sku, wanted_units, allocated, short, None, source))
                continue
            eta = event.arrival + handling
            if latest is None or eta > latest:
                latest = eta
            line_plans.append(LinePlan(line.line_id, sku, wanted_units, allocated, short, eta, event.source))
        if backordered_any:
            order_plans.append(
                OrderPlan(order.order_id, order.name, "backordered", latest if eta_known else None, tuple(line_plans))
            )
        else:
            order_plans.append(OrderPlan(order.order_id, order.name, "ok", None, tuple(line_plans)))
    return Plan(as_of, tuple(order_plans))
