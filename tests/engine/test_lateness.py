"""Worked cases for learned supplier lateness, promise settlement and the ETA shift; the no-history property."""

from __future__ import annotations

from datetime import date, timedelta

from engine_builders import AS_OF, days, line, order
from hypothesis import given, settings
from test_engine_properties import planning_inputs

from connector.engine import Policy, SupplyRow, make_plan, plan_to_dict
from connector.engine.lateness import (
    LatenessFigure,
    LatenessModel,
    LatenessSample,
    learn_lateness,
    mixture,
    recency_weight,
    weighted_quantile,
)
from connector.engine.promises import Arrival, FeedPromise, KnownPromise, OpenPromise, match_promises, settle


def sample(supplier: str, late: int, sku: str = "MUG", received: date = AS_OF) -> LatenessSample:
    return LatenessSample(supplier, sku, received - timedelta(days=late), received)


def test_weighted_quantile_is_the_first_value_reaching_the_share() -> None:
    points = [(0.0, 1.0), (10.0, 1.0), (2.0, 1.0), (2.0, 1.0), (2.0, 1.0)]
    # sorted 0,2,2,2,10: cumulative 1,2,3,4,5 of 5
    assert weighted_quantile(points, 0.5) == 2.0  # 2.5 reached at the third point
    assert weighted_quantile(points, 0.8) == 2.0  # 4.0 reached exactly at the fourth
    assert weighted_quantile(points, 0.9) == 10.0
    assert weighted_quantile([(3.0, 0.25), (9.0, 0.75)], 0.5) == 9.0


def test_mixture_gives_the_parent_the_weight_of_k_samples() -> None:
    mixed = mixture([(10.0, 1.0)], [(0.0, 2.0), (4.0, 2.0)], k=5)
    assert sorted(mixed) == [(0.0, 2.5), (4.0, 2.5), (10.0, 1.0)]


def test_recency_halves_every_half_life() -> None:
    assert recency_weight(0) == 1.0
    assert recency_weight(45) == 0.5
    assert recency_weight(90) == 0.25


def test_supplier_shrinks_toward_the_prior_worked_case() -> None:
    # A: late 0 and 10 days. B: late 2, 2, 2. All received today (weight 1), too few for a trend.
    model = learn_lateness([sample("A", 0), sample("A", 10), sample("B", 2), sample("B", 2), sample("B", 2)], AS_OF)
    # Prior: 0,2,2,2,10 (total 5). A's mixture: its own 0,10 (1 each) + the prior scaled to k=5 (1 each):
    # 0,0,2,2,2,10,10 of total 7 -> p50 (3.5) = 2, p80 (5.6) = 10, p90 = 10.
    a = model.suppliers["A"]
    assert (a.samples, a.at(0.5), a.at(0.8), a.at(0.9)) == (2, 2.0, 10.0, 10.0)
    assert a.on_time_rate == 0.5
    # B: 2,2,2 (3) + the prior (1 each): 0,2,2,2,2,2,2,10 of 8 -> p50 = 2, p80 (6.4) = 2, p90 (7.2) = 10.
    b = model.suppliers["B"]
    assert (b.at(0.5), b.at(0.8), b.at(0.9)) == (2.0, 2.0, 10.0)
    assert model.prior is not None and model.prior.samples == 5


def test_sku_shrinks_toward_its_supplier_once_it_has_enough_samples() -> None:
    rows = [sample("A", 1, "CUP")] * 6 + [sample("A", 9, "LAMP")] * 3 + [sample("A", 9, "TOY")] * 2
    model = learn_lateness(rows, AS_OF)
    assert ("A", "TOY") not in model.skus  # two deliveries: the supplier's figure stands
    assert model.figure("A", "TOY") is model.suppliers["A"]
    # LAMP: 9,9,9 (3) + A's mixture scaled to 5. A's mixture is its 11 samples + the prior (the same 11
    # samples, scaled to 5): 1 x 6, 9 x 5 in both, so share of 1 is 6/11 in the parent. LAMP's mixture:
    # 9 weighs 3 + 5 * 5/11, 1 weighs 5 * 6/11 -> share of 1 = (30/11) / 8 = 0.34 -> p50 = 9.
    lamp = model.skus[("A", "LAMP")]
    assert lamp.samples == 3 and lamp.at(0.5) == 9.0
    assert model.skus[("A", "CUP")].at(0.5) == 1.0


def test_old_samples_count_less() -> None:
    old = [sample("A", 20, received=AS_OF - timedelta(days=450))] * 4
    recent = [sample("A", 0)] * 2
    model = learn_lateness(old + recent, AS_OF, trend=False)
    assert model.suppliers["A"].at(0.5) == 0.0  # four samples ten half-lives old weigh almost nothing
    unweighted = learn_lateness(old + recent, AS_OF, trend=False, half_life_days=0)
    assert unweighted.suppliers["A"].at(0.5) == 20.0


def test_a_supplier_getting_later_is_read_at_today_and_extrapolated() -> None:
    # Promised every 10 days over 200 days; lateness grows 1 day per 10 days of promised date.
    rows = []
    for index in range(20):
        promised = AS_OF - timedelta(days=200 - 10 * index)
        rows.append(LatenessSample("DRIFT", "MUG", promised, promised + timedelta(days=index)))
    model = learn_lateness(rows, AS_OF)
    figure = model.suppliers["DRIFT"]
    assert abs(figure.trend_per_day - 0.1) < 1e-6
    assert 19 <= figure.at(0.5) <= 21  # every sample read at today's level: about 20 days
    assert model.shift_days("DRIFT", "MUG", 0.5, AS_OF + timedelta(days=30)) >= figure.at(0.5) + 2


def test_no_samples_give_the_empty_model() -> None:
    model = learn_lateness([], AS_OF)
    assert model.empty and model.shift_days("A", "MUG", 0.8) == 0
    assert learn_lateness([sample("A", 3, received=AS_OF + timedelta(days=1))], AS_OF).empty  # not yet received


def test_early_supplier_never_moves_an_eta_earlier() -> None:
    model = LatenessModel({"EARLY": LatenessFigure(10, {0.5: -2.0, 0.8: -2.0, 0.9: -1.0})})
    assert model.shift_days("EARLY", "MUG", 0.8) == 0


def test_csv_figure_reads_between_its_quantiles() -> None:
    figure = LatenessFigure(4, {0.5: 2.0, 0.8: 8.0, 0.9: 10.0})
    assert abs(figure.at(0.7) - 6.0) < 1e-9 and figure.at(0.95) == 10.0 and figure.at(0.3) == 2.0


def test_eta_moves_by_the_lateness_and_gets_a_range() -> None:
    model = LatenessModel({"acme": LatenessFigure(12, {0.5: 2.0, 0.8: 5.0, 0.9: 9.0})})
    supply = [SupplyRow("acme", "MUG", restock_date=days(9), restock_qty=5, lead_time_days=3)]
    orders = [order("1", line("a", "MUG", 2))]
    plan = make_plan(orders, {"MUG": 0}, supply, AS_OF, Policy(handling_days=1), lateness=model)
    only = plan.orders[0].lines[0]
    # promised arrival 9 + 3 = day 12; +5 learned at 0.8 -> 17; +1 handling -> 18. Range: 12+2+1 .. 12+9+1.
    assert (only.eta, only.eta_earliest, only.eta_latest) == (days(18), days(15), days(22))
    assert only.eta_source == f"supplier acme: restock {days(9).isoformat()} (+3d lead) +5d learned lateness"
    assert (plan.orders[0].eta, plan.orders[0].eta_earliest, plan.orders[0].eta_latest) == (days(18), days(15), days(22))
    naive = make_plan(orders, {"MUG": 0}, supply, AS_OF, Policy(handling_days=1))
    assert naive.orders[0].lines[0].eta == days(13)


def test_overdue_restock_never_comes_before_today_plus_lead() -> None:
    model = LatenessModel({"acme": LatenessFigure(12, {0.5: 1.0, 0.8: 2.0, 0.9: 3.0})})
    supply = [SupplyRow("acme", "MUG", restock_date=days(-20), restock_qty=5, lead_time_days=3)]
    plan = make_plan([order("1", line("a", "MUG", 1))], {"MUG": 0}, supply, AS_OF, Policy(0), lateness=model)
    assert plan.orders[0].lines[0].eta == days(3)  # promised day -17 + 2 is long past: today + lead


def test_shift_reorders_suppliers_by_their_real_arrival() -> None:
    model = LatenessModel({"slow": LatenessFigure(9, {0.5: 20.0, 0.8: 20.0, 0.9: 20.0})})
    supply = [SupplyRow("slow", "MUG", restock_date=days(5), restock_qty=1, lead_time_days=0),
              SupplyRow("steady", "MUG", restock_date=days(10), restock_qty=1, lead_time_days=0)]
    plan = make_plan([order("1", line("a", "MUG", 1))], {"MUG": 0}, supply, AS_OF, Policy(0), lateness=model)
    assert plan.orders[0].lines[0].eta == days(10)  # "steady" (unseen: no prior in this model) comes first


@settings(max_examples=200, deadline=None)
@given(planning_inputs)
def test_no_history_leaves_every_field_as_it_was(inputs) -> None:
    orders, stock, supply, policy = inputs
    before = plan_to_dict(make_plan(orders, stock, supply, AS_OF, policy))
    for model in (None, LatenessModel(), learn_lateness([], AS_OF)):
        after = plan_to_dict(make_plan(orders, stock, supply, AS_OF, policy, lateness=model, confidence=0.8))
        assert after == before
        for order_dict in after["orders"]:
            assert order_dict["eta_earliest"] == order_dict["eta_latest"] == order_dict["eta"]
            for line_dict in order_dict["lines"]:
                assert line_dict["eta_earliest"] == line_dict["eta_latest"] == line_dict["eta"]


def promise(pid: int, promised: date, outstanding: int = 5, supplier: str = "acme",
            reference: str | None = None) -> OpenPromise:
    return OpenPromise(pid, supplier, "MUG", outstanding, promised, pid, reference)


def test_arrival_settles_the_earliest_promise_first_and_spills_over() -> None:
    promises = [promise(2, days(10)), promise(1, days(4), 3), promise(3, days(4), 2, supplier="other")]
    settlements, left = settle(Arrival("acme", "MUG", 6, days(6)), promises)
    assert [(s.promise_id, s.quantity, s.lateness_days) for s in settlements] == [(1, 3, 2), (2, 3, -4)]
    assert left == 0
    _, left_over = settle(Arrival("acme", "MUG", 20, days(6)), promises)
    assert left_over == 12


def test_arrival_with_a_reference_settles_that_promise_first() -> None:
    promises = [promise(1, days(4)), promise(2, days(10), reference="PO-7")]
    settlements, _ = settle(Arrival("acme", "MUG", 5, days(11), "PO-7"), promises)
    assert [(s.promise_id, s.quantity, s.lateness_days) for s in settlements] == [(2, 5, 1)]


def test_inferred_arrival_settles_any_supplier() -> None:
    settlements, _ = settle(Arrival(None, "MUG", 2, days(5)), [promise(3, days(4), supplier="other")])
    assert [(s.promise_id, s.quantity) for s in settlements] == [(3, 2)]


def test_reimported_rows_match_by_reference_else_by_date_order() -> None:
    known = [KnownPromise(1, "MUG", days(5)), KnownPromise(2, "MUG", days(9)), KnownPromise(3, "CUP", days(5), "PO-1"),
             KnownPromise(4, "LAMP", days(2))]
    rows = [FeedPromise("MUG", 4, days(12)), FeedPromise("MUG", 4, days(7)), FeedPromise("CUP", 2, days(8), "PO-1"),
            FeedPromise("CUP", 2, days(8), "PO-2"), FeedPromise("MUG", 1, days(30))]
    matched, new, gone = match_promises(rows, known)
    pairs = sorted((k.promise_id, r.promised) for k, r in matched)
    assert pairs == [(1, days(7)), (2, days(12)), (3, days(8))]  # 5 -> 7 and 9 -> 12 are slips
    assert sorted((r.sku, r.promised) for r in new) == [("CUP", days(8)), ("MUG", days(30))]
    assert [p.promise_id for p in gone] == [4]
