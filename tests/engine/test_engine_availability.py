"""The availability ETA per variant: worked cases and the properties it must keep against the order ETAs."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings

from connector.engine import (
    NO_SUPPLY,
    SUPPLY_RUNS_OUT,
    Policy,
    SupplyRow,
    VariantAvailability,
    make_plan,
    variant_availability,
    variant_to_dict,
)
from connector.engine.lateness import LatenessFigure, LatenessModel
from connector.engine.supply import events_from_rows
from tests.engine.engine_builders import AS_OF, days, line, order
from tests.engine.test_engine_properties import planning_inputs

POLICY = Policy(handling_days=1, default_lead_time_days=7)


def availability(orders, stock, supply, policy=POLICY, skus=None) -> dict[str, VariantAvailability]:
    plan = make_plan(orders, stock, supply, AS_OF, policy)
    return {v.sku: v for v in variant_availability(plan, stock, supply, policy, skus)}


def test_in_stock_after_the_backlog_has_no_eta_and_counts_what_is_left() -> None:
    found = availability([order("1", line("a", "MUG", 2))], {"MUG": 5}, [SupplyRow("acme", "MUG", available=9)])
    assert found["MUG"] == VariantAvailability("MUG", 3, None, None)
    assert found["MUG"].in_stock
    assert variant_to_dict(found["MUG"]) == {"sku": "MUG", "available_now": 3}  # no "eta" key at all


def test_empty_backlog_gives_the_next_arrival_plus_handling() -> None:
    supply = [SupplyRow("acme", "MUG", restock_date=days(10), restock_qty=4, lead_time_days=2),
              SupplyRow("globex", "MUG", available=1, lead_time_days=5)]
    found = availability([], {"MUG": 0}, supply)
    assert found["MUG"].eta == days(5 + 1)  # globex's unit arrives first
    assert found["MUG"].eta_source == "supplier globex: available now (+5d lead)"
    assert variant_to_dict(found["MUG"]) == {"sku": "MUG", "available_now": 0, "eta": days(6).isoformat()}


def test_the_next_unit_queues_behind_every_waiting_line() -> None:
    # 3 in stock; orders want 2 + 4 + 1 = 7, so 4 wait: globex's 3 units (day 5) and 1 of acme's restock (day 12).
    supply = [SupplyRow("globex", "MUG", available=3, lead_time_days=5),
              SupplyRow("acme", "MUG", restock_date=days(10), restock_qty=2, lead_time_days=2),
              SupplyRow("acme", "MUG", restock_date=days(30), lead_time_days=0)]
    orders = [order("1", line("a", "MUG", 2)), order("2", line("b", "MUG", 4), minutes=1),
              order("3", line("c", "MUG", 1), minutes=2)]
    assert availability(orders, {"MUG": 3}, supply)["MUG"].eta == days(12 + 1)  # unit 5: acme's second unit
    one_more = [*orders, order("4", line("d", "MUG", 1), minutes=3)]
    assert availability(one_more, {"MUG": 3}, supply)["MUG"].eta == days(30 + 1)  # unit 6: the open restock


def test_supply_running_out_gives_null_not_absent() -> None:
    supply = [SupplyRow("acme", "MUG", available=2, lead_time_days=1)]
    found = availability([order("1", line("a", "MUG", 2))], {"MUG": 0, "LAMP": -3}, supply)
    assert found["MUG"] == VariantAvailability("MUG", 0, None, SUPPLY_RUNS_OUT)
    assert found["LAMP"] == VariantAvailability("LAMP", 0, None, NO_SUPPLY)  # oversold stock counts as none
    assert variant_to_dict(found["MUG"]) == {"sku": "MUG", "available_now": 0, "eta": None}


def test_exactly_used_up_stock_is_not_in_stock() -> None:
    found = availability([order("1", line("a", "MUG", 4))], {"MUG": 4}, [SupplyRow("acme", "MUG", available=1)])
    assert found["MUG"].available_now == 0
    assert found["MUG"].eta == days(7 + 1)  # the policy's default lead time


def test_only_tracked_skus_and_only_the_asked_ones() -> None:
    orders = [order("1", line("a", "MUG", 1), line("b", "UNTRACKED", 5))]
    stock = {"MUG": 0, "TEE": 2}
    assert sorted(availability(orders, stock, [])) == ["MUG", "TEE"]
    assert sorted(availability(orders, stock, [], skus=["TEE", "UNTRACKED"])) == ["TEE"]


def test_a_learned_lateness_gives_the_variant_its_range() -> None:
    # acme is late 2 days at p50, 4 at p80 (the default confidence) and 6 at p90.
    model = LatenessModel({"acme": LatenessFigure(20, {0.5: 2.0, 0.8: 4.0, 0.9: 6.0})})
    supply = [SupplyRow("acme", "MUG", restock_date=days(10), restock_qty=5, lead_time_days=0)]
    orders = [order("1", line("a", "MUG", 2))]
    plan = make_plan(orders, {"MUG": 0}, supply, AS_OF, POLICY, model)
    [variant] = variant_availability(plan, {"MUG": 0}, supply, POLICY, lateness=model)
    assert (variant.eta, variant.eta_earliest, variant.eta_latest) == (days(15), days(13), days(17))
    assert variant.eta >= plan.orders[0].lines[0].eta  # type: ignore[operator]
    assert variant_to_dict(variant) == {"sku": "MUG", "available_now": 0, "eta": days(15).isoformat(),
                                        "eta_earliest": days(13).isoformat(), "eta_latest": days(17).isoformat()}
    plain = availability(orders, {"MUG": 0}, supply)["MUG"]
    assert (plain.eta, plain.eta_earliest, plain.eta_latest) == (days(11), None, None)  # no model: no range


@settings(max_examples=150, deadline=None)
@given(planning_inputs)
def test_never_earlier_than_any_waiting_line_of_its_sku(inputs) -> None:
    orders, stock, supply, policy = inputs
    plan = make_plan(orders, stock, supply, AS_OF, policy)
    found = {v.sku: v for v in variant_availability(plan, stock, supply, policy)}
    assert sorted(found) == sorted(stock)
    for order_plan in plan.orders:
        for planned in order_plan.lines:
            if not planned.backordered:
                continue
            variant = found[planned.sku]
            assert not variant.in_stock  # a SKU with a waiting line has nothing left
            if planned.eta is None:
                assert variant.eta is None  # supply ran out before that line: later units wait too
            elif variant.eta is not None:
                assert variant.eta >= planned.eta


@settings(max_examples=150, deadline=None)
@given(planning_inputs)
def test_empty_backlog_gives_the_next_arrival_date(inputs) -> None:
    _orders, stock, supply, policy = inputs
    plan = make_plan([], stock, supply, AS_OF, policy)
    for variant in variant_availability(plan, stock, supply, policy):
        if stock[variant.sku] > 0:
            assert variant.available_now == stock[variant.sku] and variant.eta is None
            continue
        events = events_from_rows([row for row in supply if row.sku == variant.sku], AS_OF, policy)
        first = next((event.arrival for event in events if event.quantity is None or event.quantity > 0), None)
        expected = first + timedelta(days=policy.handling_days) if first is not None else None
        assert variant.eta == expected
