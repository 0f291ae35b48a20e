"""Properties every plan must have, whatever the orders, stock and supply."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine import Order, OrderLine, Plan, Policy, SupplyRow, is_open_line, make_plan, priority_key

AS_OF = date(2026, 11, 26)
SKUS = ["A", "B", "C", "D"]
MOSTLY_TRUE = st.sampled_from([True, True, True, True, False])

line_strategy = st.builds(
    OrderLine,
    line_id=st.uuids().map(str),
    sku=st.sampled_from([*SKUS, None]),
    quantity=st.integers(0, 6),
    open_quantity=st.integers(0, 6),
    requires_shipping=MOSTLY_TRUE,
)
order_strategy = st.builds(
    Order,
    order_id=st.one_of(st.integers(1, 40).map(str), st.text("xyz", min_size=1, max_size=3)),
    name=st.just("#"),
    created_at=st.integers(0, 6).map(lambda h: datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=h)),
    is_open=MOSTLY_TRUE,
    lines=st.lists(line_strategy, max_size=4).map(tuple),
)
supply_strategy = st.builds(
    SupplyRow,
    supplier=st.sampled_from(["acme", "globex"]),
    sku=st.sampled_from(SKUS),
    available=st.none() | st.integers(0, 5),
    restock_date=st.none() | st.integers(-5, 20).map(lambda d: AS_OF + timedelta(days=d)),
    restock_qty=st.none() | st.integers(0, 8),
    lead_time_days=st.none() | st.integers(0, 10),
)
stock_strategy = st.dictionaries(st.sampled_from(SKUS), st.integers(-2, 6))
policy_strategy = st.builds(Policy, handling_days=st.integers(0, 3), default_lead_time_days=st.integers(0, 9))


def unique_ids(orders: list[Order]) -> list[Order]:
    seen: set[str] = set()
    return [o for o in orders if not (o.order_id in seen or seen.add(o.order_id))]


planning_inputs = st.tuples(
    st.lists(order_strategy, max_size=12).map(unique_ids),
    stock_strategy,
    st.lists(supply_strategy, max_size=8),
    policy_strategy,
)


def plan_for(inputs: tuple[list[Order], dict[str, int], list[SupplyRow], Policy]) -> Plan:
    orders, stock, supply, policy = inputs
    return make_plan(orders, stock, supply, AS_OF, policy)


@settings(max_examples=300, deadline=None)
@given(planning_inputs)
def test_every_open_tracked_unit_is_allocated_or_backordered(inputs) -> None:
    orders, stock, _supply, _policy = inputs
    plan = plan_for(inputs)
    expected = {
        line.line_id: line.open_quantity
        for o in orders for line in o.lines if is_open_line(o, line) and line.sku in stock
    }
    planned = {ln.line_id: ln for o in plan.orders for ln in o.lines}
    assert planned.keys() == expected.keys()
    for line_id, open_quantity in expected.items():
        ln = planned[line_id]
        assert ln.ordered == open_quantity
        assert ln.allocated + ln.backordered == ln.ordered
        assert ln.allocated >= 0 and ln.backordered >= 0


@settings(max_examples=300, deadline=None)
@given(planning_inputs)
def test_stock_is_never_over_allocated(inputs) -> None:
    _orders, stock, _supply, _policy = inputs
    allocated: dict[str, int] = defaultdict(int)
    for o in plan_for(inputs).orders:
        for ln in o.lines:
            allocated[ln.sku] += ln.allocated
    for sku, units in allocated.items():
        assert units <= max(stock[sku], 0)


def wait(ln, as_of: date) -> float:
    """Days a line waits: 0 from stock, its ETA's distance, infinity when unknown."""
    if ln.backordered == 0:
        return 0
    return float("inf") if ln.eta is None else (ln.eta - as_of).days


@settings(max_examples=300, deadline=None)
@given(planning_inputs)
def test_an_older_order_never_waits_longer_than_a_newer_one_for_the_same_sku(inputs) -> None:
    orders, _stock, _supply, _policy = inputs
    plan = plan_for(inputs)
    by_id = {o.order_id: o for o in orders}
    keys = [priority_key(by_id[o.order_id]) for o in plan.orders]
    assert keys == sorted(keys)
    last_wait: dict[str, float] = {}
    for o in plan.orders:
        for ln in o.lines:
            w = wait(ln, AS_OF)
            assert w >= last_wait.get(ln.sku, 0)
            last_wait[ln.sku] = w


@settings(max_examples=200, deadline=None)
@given(planning_inputs, st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(inputs, rnd) -> None:
    orders, stock, supply, policy = inputs
    shuffled_orders, shuffled_supply = orders[:], supply[:]
    rnd.shuffle(shuffled_orders)
    rnd.shuffle(shuffled_supply)
    assert plan_for(inputs) == make_plan(shuffled_orders, stock, shuffled_supply, AS_OF, policy)


@settings(max_examples=200, deadline=None)
@given(planning_inputs)
def test_order_status_and_eta_follow_their_lines(inputs) -> None:
    for o in plan_for(inputs).orders:
        backordered = [ln for ln in o.lines if ln.backordered]
        assert o.status == ("backordered" if backordered else "ok")
        if not backordered or any(ln.eta is None for ln in backordered):
            assert o.eta is None
        else:
            assert o.eta == max(ln.eta for ln in backordered)
        assert all(ln.eta is None for ln in o.lines if not ln.backordered)
