"""Worked cases and properties for demand per SKU, safety stock, reorder advice and the backorder-likely check."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.demand import Sale, SurgeRule, demand_stats, is_demand_surge, outlier_caps, window_days
from connector.engine.reorder import (
    AdviceSettings,
    Arrival,
    Lateness,
    LeadTime,
    SkuPosition,
    advice_order,
    advise,
    lead_time,
    projected_shortage,
    reorder_point,
    safety_stock,
    service_z,
)

AS_OF = date(2026, 6, 30)


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


# --- demand -----------------------------------------------------------------------------------------


def test_rate_and_spread_over_the_window_by_hand() -> None:
    # 10 days of history: 2 units every day except 4 on the last day.
    sales = [Sale("A", day(-i), 2) for i in range(1, 10)] + [Sale("A", AS_OF, 4)]
    stats = demand_stats(sales, AS_OF, history_start=day(-9))["A"]
    assert stats.days == 10
    assert stats.units == 22
    assert stats.rate == pytest.approx(2.2)
    # sample variance: (9 * 0.2² + 1.8²) / 9 = (0.36 + 3.24) / 9 = 0.4
    assert stats.std == pytest.approx(math.sqrt(0.4))
    assert stats.capped_days == 0


def test_cancelled_orders_and_days_outside_the_window_count_for_nothing() -> None:
    sales = [Sale("A", AS_OF, 5, cancelled=True), Sale("A", day(-90), 7), Sale("A", day(-89), 3),
             Sale("A", day(1), 9)]
    stats = demand_stats(sales, AS_OF)["A"]
    assert stats.days == 90  # window: day(-89) .. AS_OF
    assert stats.units == 3
    assert stats.rate == pytest.approx(3 / 90)


def test_history_start_shortens_the_window_and_named_skus_get_zero_rates() -> None:
    first, days = window_days(AS_OF, day(-29))
    assert (first, days) == (day(-29), 30)
    assert window_days(AS_OF, day(5)) == (AS_OF, 1)
    stats = demand_stats([], AS_OF, skus=["Z"])["Z"]
    assert (stats.rate, stats.std, stats.units) == (0.0, 0.0, 0)
    with pytest.raises(ValueError, match="at least one day"):
        window_days(AS_OF, None, 0)


def test_a_single_bulk_day_is_capped_by_the_outlier_rule() -> None:
    # 1 unit a day for 30 days, then one bulk order of 100 units.
    sales = [Sale("A", day(-i), 1) for i in range(1, 30)] + [Sale("A", AS_OF, 100)]
    stats = demand_stats(sales, AS_OF, history_start=day(-29))["A"]
    # Other days: mean 1, stdev 0 -> cap = 1 + 4 * max(0, 1, 1) = 5.
    assert stats.capped_days == 1
    assert stats.rate == pytest.approx((29 + 5) / 30)
    assert stats.units == 129  # the cap changes the rate, not the record


def test_outlier_caps_keep_ordinary_poisson_noise() -> None:
    daily = [0, 2, 1, 0, 3, 1, 1, 0, 2, 1]
    caps = outlier_caps(daily)
    assert all(value <= cap for value, cap in zip(daily, caps, strict=True))


def test_surge_rule_worked_cases() -> None:
    steady = [Sale("S", day(-i), 1) for i in range(90)]
    surge = steady + [Sale("S", day(-i), 3) for i in range(14)]
    stats = demand_stats(steady, AS_OF)["S"]
    assert not is_demand_surge(stats)
    surging = demand_stats(surge, AS_OF)["S"]
    # recent: 4/day; 90-day: (90 + 42) / 90 = 1.47/day; 4 >= 2 * 1.47
    assert surging.recent_rate == pytest.approx(4.0)
    assert is_demand_surge(surging)
    # Two units for a SKU that never sold is a big ratio but below min_units.
    slow = demand_stats([Sale("T", AS_OF, 2)], AS_OF)["T"]
    assert not is_demand_surge(slow)
    assert is_demand_surge(slow, SurgeRule(min_units=2))
    assert not is_demand_surge(None)


# --- safety stock and reorder point -----------------------------------------------------------------


def test_safety_stock_demand_variability_only_by_hand() -> None:
    # d = 10/day, sd = 3, L = 9 days, sL = 0, 95%: SS = 1.6449 * sqrt(9 * 9) = 14.80
    assert service_z(0.95) == pytest.approx(1.644854, abs=1e-6)
    assert safety_stock(10, 3, LeadTime(9), 0.95) == pytest.approx(14.8037, abs=1e-3)
    assert reorder_point(10, 3, LeadTime(9), 0.95) == pytest.approx(104.8037, abs=1e-3)


def test_safety_stock_with_lead_time_variability_by_hand() -> None:
    # SS = 1.6449 * sqrt(9 * 3² + 10² * 2²) = 1.6449 * sqrt(481) = 36.075
    assert safety_stock(10, 3, LeadTime(9, 2), 0.95) == pytest.approx(36.075, abs=1e-3)
    # 99%: z = 2.3263 -> 51.02
    assert safety_stock(10, 3, LeadTime(9, 2), 0.99) == pytest.approx(51.021, abs=1e-3)


def test_lateness_shifts_and_spreads_the_lead_time() -> None:
    lead = lead_time(7, Lateness(p50=2, p80=3.68, p90=2 + 1.2815516 * 2))
    assert lead.days == pytest.approx(9)
    assert lead.std_days == pytest.approx(2, abs=1e-6)
    assert lead_time(7, None) == LeadTime(7, 0)
    assert lead_time(3, Lateness(-5, -5, -5)).days == 0  # an early supplier never makes lead negative


def test_bad_service_levels_are_refused() -> None:
    for level in (0.2, 1.0, 95):
        with pytest.raises(ValueError, match="service level"):
            service_z(level)


positive = st.floats(min_value=0, max_value=500, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(rate=positive, std=positive, lead=st.floats(0, 120), lead_std=st.floats(0, 30),
       low=st.floats(0.5, 0.9999), high=st.floats(0.5, 0.9999))
def test_safety_stock_is_monotone_in_service_level(rate: float, std: float, lead: float, lead_std: float,
                                                   low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert safety_stock(rate, std, LeadTime(lead, lead_std), low) <= \
        safety_stock(rate, std, LeadTime(lead, lead_std), high) + 1e-9


@settings(max_examples=60, deadline=None)
@given(rate=positive, std=positive, extra=positive, lead=st.floats(0, 120), lead_std=st.floats(0, 30),
       extra_lead=st.floats(0, 30), level=st.floats(0.5, 0.9999))
def test_safety_stock_is_monotone_in_both_variabilities(rate: float, std: float, extra: float, lead: float,
                                                        lead_std: float, extra_lead: float, level: float) -> None:
    base = safety_stock(rate, std, LeadTime(lead, lead_std), level)
    assert safety_stock(rate, std + extra, LeadTime(lead, lead_std), level) >= base - 1e-9
    assert safety_stock(rate, std, LeadTime(lead, lead_std + extra_lead), level) >= base - 1e-9


# --- advice and the backorder-likely check ----------------------------------------------------------


def position(**fields: object) -> SkuPosition:
    values: dict[str, object] = {"sku": "A", "on_hand": 100, "open_demand": 0, "arrivals": (),
                                  "rate": 10.0, "std": 3.0, "lead_days": 9.0}
    values.update(fields)
    return SkuPosition(**values)  # type: ignore[arg-type]


def test_advice_at_the_reorder_point_by_hand() -> None:
    # ROP = 104.8 -> 105, SS -> 15; position 100 <= 105: order today 104.8 + 10 * 30 - 100 = 304.8 -> 305
    advice = advise(position(), AS_OF)
    assert (advice.safety_stock, advice.reorder_point, advice.position) == (15, 105, 100)
    assert advice.suggested == 305
    assert advice.order_by == AS_OF
    # 100 units at 10/day last 10 days, longer than the 9-day lead time the projection looks over.
    assert advice.status == "ok"


def test_advice_above_the_reorder_point_gives_an_order_by_date() -> None:
    # position 100 + 60 incoming - 10 open = 150; (150 - 104.8) / 10 = 4.5 -> order within 4 days
    advice = advise(position(arrivals=(Arrival(day(3), 60),), open_demand=10), AS_OF)
    assert advice.position == 150
    assert advice.suggested == 0
    assert advice.order_by == day(4)
    assert advice.incoming == 60


def test_backorder_likely_before_the_next_arrival() -> None:
    # 50 free units at 10/day; next arrival on day 12; stock goes below zero on day 6.
    advice = advise(position(on_hand=50, arrivals=(Arrival(day(12), 200),)), AS_OF)
    assert advice.status == "likely"
    assert advice.likely_on == day(6)
    assert advice.next_arrival == day(12)
    # The deepest point is day 11 (50 - 110 = -60): bridge it plus SS 14.80 -> 75, ordered today
    # (day 6 minus the 9-day lead time is already past).
    assert (advice.suggested, advice.order_by) == (75, AS_OF)
    # The same stock with the arrival on day 4 stays at or above zero through day 12.
    covered = advise(position(on_hand=50, arrivals=(Arrival(day(4), 200),)), AS_OF)
    assert covered.status == "ok" and covered.likely_on is None


def test_backordered_now_is_not_likely_and_unbounded_promises_end_the_risk() -> None:
    assert advise(position(on_hand=3, open_demand=5), AS_OF).status == "backordered"
    assert projected_shortage(15, (Arrival(day(2), None),), 10, AS_OF, 30) is None
    assert projected_shortage(5, (Arrival(day(2), None),), 10, AS_OF, 30) == day(1)
    assert projected_shortage(5, (), 10, AS_OF, 30) == day(1)
    assert projected_shortage(-1, (), 0, AS_OF, 30) == AS_OF


def test_no_demand_means_nothing_to_order_unless_customers_wait() -> None:
    idle = advise(position(rate=0.0, std=0.0, on_hand=0), AS_OF)
    assert (idle.suggested, idle.order_by, idle.status) == (0, None, "ok")
    waiting = advise(position(rate=0.0, std=0.0, on_hand=0, open_demand=4), AS_OF)
    assert (waiting.suggested, waiting.order_by, waiting.status) == (4, AS_OF, "backordered")


def test_listing_order_puts_likely_first() -> None:
    likely = advise(position(sku="L", on_hand=50, arrivals=(Arrival(day(12), 200),)), AS_OF)
    short = advise(position(sku="B", on_hand=3, open_demand=5), AS_OF)
    fine = advise(position(sku="F", on_hand=10_000), AS_OF)
    assert [a.sku for a in sorted([fine, short, likely], key=advice_order)] == ["L", "B", "F"]


def test_a_higher_service_level_never_lowers_the_suggestion() -> None:
    low = advise(position(), AS_OF, AdviceSettings(service_level=0.9))
    high = advise(position(), AS_OF, AdviceSettings(service_level=0.99))
    assert high.safety_stock >= low.safety_stock and high.suggested >= low.suggested


def test_incoming_counts_restock_promises_only_and_the_shortest_lead_supplier_is_chosen() -> None:
    from connector.engine import Policy, SupplyRow
    from connector.engine.reorder import incoming_arrivals, purchase_suggestions, reorder_supplier

    rows = [SupplyRow("slow", "A", available=50, restock_date=day(5), restock_qty=20, lead_time_days=10),
            SupplyRow("fast", "A", available=5, lead_time_days=2)]
    assert incoming_arrivals(rows, AS_OF, Policy()) == (Arrival(day(15), 20),)
    assert reorder_supplier(rows, Policy()) == ("fast", 2)
    assert reorder_supplier([], Policy(default_lead_time_days=6)) == (None, 6)
    first = advise(position(sku="A", supplier="fast"), AS_OF)
    second = advise(position(sku="B", supplier="fast", on_hand=0), AS_OF)
    none = advise(position(sku="C", supplier="slow", on_hand=10_000), AS_OF)
    (fast,) = purchase_suggestions([first, second, none])
    assert (fast.supplier, fast.skus, fast.units) == ("fast", 2, first.suggested + second.suggested)
    assert fast.order_by == AS_OF


def test_once_ordered_a_likely_shortage_inside_the_lead_time_asks_for_nothing_more() -> None:
    # 50 units at 10/day run short on day 6; the order placed today arrives on day 9 (the lead time).
    advice = advise(position(on_hand=50, arrivals=(Arrival(day(9), 305),)), AS_OF)
    assert advice.status == "likely" and advice.likely_on == day(6)
    assert advice.suggested == 0  # a new order could not arrive before day 9 either: only expediting helps
    assert advice.order_by == AS_OF
