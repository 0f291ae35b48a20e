"""Hand-worked plans: each case's numbers were worked out on paper from the issue's rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from engine_builders import AS_OF, days, line, order

from connector.engine import (
    IN_STOCK,
    NO_SUPPLY,
    SUPPLY_RUNS_OUT,
    Policy,
    SupplyRow,
    make_plan,
    order_id_key,
    plan_to_dict,
)


def test_issue_example_matches_the_contract_exactly() -> None:
    orders = [order("1001", line("5001", "MUG-RED", 3))]
    supply = [SupplyRow("acme", "MUG-RED", restock_date=date(2026, 12, 5), restock_qty=10, lead_time_days=3)]
    plan = make_plan(orders, {"MUG-RED": 1}, supply, AS_OF, Policy(handling_days=1))
    assert plan_to_dict(plan) == {
        "as_of": "2026-11-26",
        "orders": [{
            "order_id": "1001", "order_name": "#1001", "status": "backordered", "eta": "2026-12-09",
            "eta_earliest": "2026-12-09", "eta_latest": "2026-12-09",
            "lines": [{"line_id": "5001", "sku": "MUG-RED", "ordered": 3, "allocated": 1,
                       "backordered": 2, "eta": "2026-12-09", "eta_earliest": "2026-12-09",
                       "eta_latest": "2026-12-09", "reason": None}],
        }],
    }
    assert plan.orders[0].lines[0].eta_source == "supplier acme: restock 2026-12-05 (+3d lead)"


def test_fully_allocated_line_is_ok_with_null_eta() -> None:
    plan = make_plan([order("1", line("a", "CUP", 2))], {"CUP": 5}, [], AS_OF)
    (only,) = plan.orders
    assert (only.status, only.eta) == ("ok", None)
    assert (only.lines[0].allocated, only.lines[0].backordered, only.lines[0].eta) == (2, 0, None)
    assert only.lines[0].eta_source == IN_STOCK


def test_older_order_gets_stock_first_and_times_compare_in_utc() -> None:
    # 10:00 at UTC-5 is 15:00 UTC, so the 14:00 UTC order is older despite the smaller clock time.
    late = order("1", line("a", "CUP", 1), created_at=datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=-5))))
    early = order("2", line("b", "CUP", 1), created_at=datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc))
    plan = make_plan([late, early], {"CUP": 1}, [], AS_OF)
    assert [(o.order_id, o.status) for o in plan.orders] == [("2", "ok"), ("1", "backordered")]


def test_ties_break_on_numeric_order_id() -> None:
    orders = [order("10", line("x", "CUP", 1)), order("9", line("y", "CUP", 1))]
    plan = make_plan(orders, {"CUP": 1}, [], AS_OF)
    assert [(o.order_id, o.status) for o in plan.orders] == [("9", "ok"), ("10", "backordered")]


def test_order_id_key_is_numeric_for_digits_and_puts_other_ids_after() -> None:
    ids = ["10", "wc-2", "9", "1a", "100"]
    assert sorted(ids, key=order_id_key) == ["9", "10", "100", "1a", "wc-2"]


def test_multiple_feeds_merge_by_arrival_and_are_consumed_in_chunks() -> None:
    supply = [
        SupplyRow("acme", "CUP", available=2, lead_time_days=7),  # arrives day 7
        SupplyRow("globex", "CUP", restock_date=days(3), restock_qty=5, lead_time_days=0),  # day 3
    ]
    orders = [order("1", line("a", "CUP", 4), minutes=0), order("2", line("b", "CUP", 3), minutes=1)]
    plan = make_plan(orders, {"CUP": 0}, supply, AS_OF, Policy(handling_days=1))
    first, second = plan.orders
    # order 1 takes 4 of globex's 5; order 2 takes the last one and then 2 of acme's.
    assert first.lines[0].eta == days(4)
    assert first.lines[0].eta_source == f"supplier globex: restock {days(3).isoformat()} (+0d lead)"
    assert second.lines[0].eta == days(8)
    assert second.lines[0].eta_source == "supplier acme: available now (+7d lead)"


def test_supply_running_out_gives_unknown_eta_for_line_and_order() -> None:
    supply = [SupplyRow("acme", "CUP", available=1, lead_time_days=2)]
    orders = [
        order("1", line("a", "CUP", 1), line("b", "PLATE", 1), minutes=0),
        order("2", line("c", "CUP", 2), line("d", "PLATE", 1), minutes=1),
    ]
    plan = make_plan(orders, {"CUP": 0, "PLATE": 0}, supply, AS_OF, Policy(handling_days=1))
    first, second = plan.orders
    assert first.lines[0].eta == days(3)
    assert (first.lines[1].eta, first.lines[1].eta_source) == (None, NO_SUPPLY)
    assert first.eta is None  # one backordered line has no ETA
    assert (second.lines[0].eta, second.lines[0].eta_source) == (None, SUPPLY_RUNS_OUT)
    assert second.status == "backordered"


def test_order_eta_is_latest_backordered_line() -> None:
    supply = [
        SupplyRow("acme", "CUP", available=5, lead_time_days=2),
        SupplyRow("acme", "PLATE", available=5, lead_time_days=9),
    ]
    orders = [order("1", line("a", "CUP", 1), line("b", "PLATE", 1), line("c", "SPOON", 1))]
    plan = make_plan(orders, {"CUP": 0, "PLATE": 0, "SPOON": 3}, supply, AS_OF, Policy(handling_days=2))
    (only,) = plan.orders
    assert [ln.eta for ln in only.lines] == [days(4), days(11), None]
    assert only.eta == days(11)


def test_untracked_skuless_nonshipping_and_finished_lines_are_left_out() -> None:
    orders = [
        order("1", line("a", "UNTRACKED", 5), line("b", None, 1), line("c", "CUP", 1, ships=False),
              line("d", "CUP", 0, quantity=2), minutes=0),
        order("2", line("e", "UNTRACKED", 1), line("f", "CUP", 2), minutes=1),
    ]
    plan = make_plan(orders, {"CUP": 1}, [], AS_OF)
    # order 1 has no tracked open line; its non-shipping CUP line took no stock.
    assert [(o.order_id, [ln.line_id for ln in o.lines]) for o in plan.orders] == [("2", ["f"])]
    assert (plan.orders[0].lines[0].allocated, plan.orders[0].lines[0].backordered) == (1, 1)


def test_partially_fulfilled_line_plans_only_its_open_quantity() -> None:
    plan = make_plan([order("1", line("a", "CUP", 1, quantity=3))], {"CUP": 0}, [], AS_OF)
    assert (plan.orders[0].lines[0].ordered, plan.orders[0].lines[0].backordered) == (1, 1)


def test_cancelled_order_takes_no_stock() -> None:
    orders = [order("1", line("a", "CUP", 1), minutes=0, is_open=False), order("2", line("b", "CUP", 1), minutes=1)]
    plan = make_plan(orders, {"CUP": 1}, [], AS_OF)
    assert [(o.order_id, o.status) for o in plan.orders] == [("2", "ok")]


def test_restock_date_in_the_past_counts_from_today() -> None:
    supply = [SupplyRow("acme", "CUP", restock_date=date(2026, 11, 1), restock_qty=4, lead_time_days=2)]
    plan = make_plan([order("1", line("a", "CUP", 1))], {"CUP": 0}, supply, AS_OF, Policy(handling_days=1))
    assert plan.orders[0].eta == days(3)
    assert plan.orders[0].lines[0].eta_source == "supplier acme: restock 2026-11-01 overdue (+2d lead)"


def test_default_lead_time_applies_when_row_has_none() -> None:
    supply = [SupplyRow("acme", "CUP", available=3)]
    plan = make_plan([order("1", line("a", "CUP", 1))], {"CUP": 0}, supply, AS_OF,
                     Policy(handling_days=0, default_lead_time_days=5))
    assert plan.orders[0].eta == days(5)
    assert plan.orders[0].lines[0].eta_source == "supplier acme: available now (+5d lead)"


def test_restock_without_quantity_covers_every_waiting_unit() -> None:
    supply = [SupplyRow("acme", "CUP", available=1, lead_time_days=1),
              SupplyRow("acme", "CUP", restock_date=days(10), lead_time_days=0)]
    orders = [order(str(n), line(f"l{n}", "CUP", 50), minutes=n) for n in range(3)]
    plan = make_plan(orders, {"CUP": 0}, supply, AS_OF, Policy(handling_days=1))
    assert [o.eta for o in plan.orders] == [days(11)] * 3


def test_negative_stock_counts_as_none() -> None:
    plan = make_plan([order("1", line("a", "CUP", 2))], {"CUP": -4}, [], AS_OF)
    assert (plan.orders[0].lines[0].allocated, plan.orders[0].lines[0].backordered) == (0, 2)


def test_stock_is_spread_line_by_line_within_an_order() -> None:
    orders = [order("1", line("a", "CUP", 2), line("b", "CUP", 2)), order("2", line("c", "CUP", 1), minutes=1)]
    plan = make_plan(orders, {"CUP": 3}, [], AS_OF)
    allocations = [(ln.line_id, ln.allocated, ln.backordered) for o in plan.orders for ln in o.lines]
    assert allocations == [("a", 2, 0), ("b", 1, 1), ("c", 0, 1)]


def test_exactly_exhausted_event_moves_to_the_next() -> None:
    supply = [SupplyRow("acme", "CUP", available=2, lead_time_days=1),
              SupplyRow("globex", "CUP", available=2, lead_time_days=4)]
    orders = [order("1", line("a", "CUP", 2)), order("2", line("b", "CUP", 1), minutes=1)]
    plan = make_plan(orders, {"CUP": 0}, supply, AS_OF, Policy(handling_days=0))
    assert [o.eta for o in plan.orders] == [days(1), days(4)]
