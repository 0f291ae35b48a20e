"""Reason codes: worked cases and the property that every backordered line gets exactly one."""

from __future__ import annotations

from datetime import date
from hypothesis import given, settings
from hypothesis import strategies as st

import json

from connector.engine import SupplyRow, make_plan, plan_to_dict, plan_to_json
from connector.engine.reasons import (
    REASON_CODES,
    LineEvidence,
    apply_reasons,
    line_reason,
    plan_reasons,
    slipped_promises,
)
from tests.engine.engine_builders import AS_OF, days, line, order


def test_each_rule_by_example() -> None:
    assert line_reason(LineEvidence(2, days(5), promise_slipped=True, demand_surge=True)) == "supplier_delay"
    assert line_reason(LineEvidence(2, days(5), demand_surge=True)) == "demand_surge"
    assert line_reason(LineEvidence(2, None, demand_surge=True)) == "demand_surge"
    assert line_reason(LineEvidence(2, days(5))) == "awaiting_restock"
    assert line_reason(LineEvidence(2, None)) == "no_supplier_date"
    # A slip without a date to wait on is not a supplier delay: nothing covers the line.
    assert line_reason(LineEvidence(2, None, promise_slipped=True)) == "no_supplier_date"
    assert line_reason(LineEvidence(0, None, promise_slipped=True, demand_surge=True)) is None


def test_plan_reasons_over_a_real_plan() -> None:
    orders = [
        order("1", line("1a", "A", 3), line("1b", "B", 1)),
        order("2", line("2a", "A", 2), line("2c", "C", 1), minutes=1),
        order("3", line("3d", "D", 1), minutes=2),
    ]
    stock = {"A": 1, "B": 5, "C": 0, "D": 0}
    supply = [SupplyRow("acme", "A", restock_date=days(4), restock_qty=2, lead_time_days=0),
              SupplyRow("acme", "C", restock_date=days(6), lead_time_days=0)]
    plan = make_plan(orders, stock, supply, AS_OF)
    reasons = plan_reasons(plan, surging_skus={"D"}, slipped=slipped_promises([("acme", "C", days(6))]))
    assert reasons == {
        ("1", "1a"): "awaiting_restock",  # 2 short, covered by the restock of 2
        ("2", "2a"): "no_supplier_date",  # the restock ran out before this line
        ("2", "2c"): "supplier_delay",  # it waits on acme's restock of C, which slipped
        ("3", "3d"): "demand_surge",
    }
    apply_reasons(plan, {"D"})
    lines = {line.line_id: line for order in plan.orders for line in order.lines}
    assert lines["1b"].reason is None  # in stock
    assert lines["2c"].reason == "awaiting_restock"  # no slips given this time
    assert plan_to_dict(plan)["orders"][0]["lines"][0]["reason"] == "awaiting_restock"
    assert json.loads(plan_to_json(plan)) == plan_to_dict(plan)


def test_a_slip_of_another_promise_is_not_this_lines_delay() -> None:
    orders = [order("1", line("1a", "A", 2))]
    supply = [SupplyRow("acme", "A", restock_date=days(4), lead_time_days=0),
              SupplyRow("bolt", "A", restock_date=days(9), lead_time_days=0)]
    plan = make_plan(orders, {"A": 0}, supply, AS_OF)
    check = slipped_promises([("bolt", "A", days(9)), ("acme", "A", days(3)), ("acme", "B", days(4))])
    assert not check(plan.orders[0].lines[0])  # it waits on acme's 4-day restock, which did not slip
    assert slipped_promises([("acme", "A", days(4))])(plan.orders[0].lines[0])


@settings(max_examples=200, deadline=None)
@given(
    backordered=st.integers(-2, 50),
    eta=st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))),
    slipped=st.booleans(),
    surge=st.booleans(),
)
def test_every_backordered_line_has_exactly_one_reason(backordered: int, eta: date | None, slipped: bool,
                                                       surge: bool) -> None:
    reason = line_reason(LineEvidence(backordered, eta, slipped, surge))
    if backordered > 0:
        assert reason in REASON_CODES
    else:
        assert reason is None


@settings(max_examples=60, deadline=None)
@given(
    wanted=st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 5)), min_size=1, max_size=12),
    stock=st.dictionaries(st.sampled_from("ABC"), st.integers(0, 6), min_size=3, max_size=3),
    restock=st.dictionaries(st.sampled_from("ABC"), st.integers(0, 8)),
    surging=st.sets(st.sampled_from("ABC")),
)
def test_plan_reasons_cover_exactly_the_backordered_lines(wanted: list[tuple[str, int]], stock: dict[str, int],
                                                          restock: dict[str, int], surging: set[str]) -> None:
    orders = [order(str(index), line(f"l{index}", sku, units), minutes=index)
              for index, (sku, units) in enumerate(wanted)]
    supply = [SupplyRow("s", sku, restock_date=days(3), restock_qty=units) for sku, units in restock.items()]
    plan = make_plan(orders, stock, supply, AS_OF)
    reasons = plan_reasons(plan, surging, slipped=lambda ln: ln.sku == "A")
    backordered = {(o.order_id, ln.line_id) for o in plan.orders for ln in o.lines if ln.backordered > 0}
    assert set(reasons) == backordered
    assert all(code in REASON_CODES for code in reasons.values())
