"""Which notice an order's decision calls for: worked cases and properties of the notice rules."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.notify.policy import (
    NoticeDecision,
    NoticeLine,
    NoticeState,
    decide_notice,
    next_notice,
    notice_fingerprint,
    record_sent,
)

MON = date(2026, 12, 7)
TUE = MON + timedelta(days=1)
DEC_20 = date(2026, 12, 20)


def told(kind: str, eta: date | None, on: date = MON) -> NoticeState:
    return record_sent(kind, eta, on)  # type: ignore[arg-type]


# --- worked cases ---------------------------------------------------------------------------------


def test_first_backorder_is_announced_even_without_an_eta() -> None:
    assert next_notice(None, "backordered", None, MON) == "backordered"
    assert next_notice(None, "backordered", DEC_20, MON) == "backordered"
    assert next_notice(NoticeState(), "backordered", DEC_20, MON) == "backordered"


def test_an_order_that_was_never_backordered_gets_nothing() -> None:
    assert next_notice(None, "ok", None, MON) is None


def test_nothing_new_means_no_notice() -> None:
    assert next_notice(told("backordered", DEC_20), "backordered", DEC_20, TUE) is None
    assert next_notice(told("backordered", None), "backordered", None, TUE) is None


def test_a_later_eta_is_sent_at_once_even_on_the_same_day() -> None:
    state = told("backordered", DEC_20, on=MON)
    assert next_notice(state, "backordered", DEC_20 + timedelta(days=1), MON) == "eta_changed"


def test_an_eta_becoming_unknown_counts_as_later() -> None:
    assert next_notice(told("eta_changed", DEC_20, on=MON), "backordered", None, MON) == "eta_changed"


def test_an_eta_becoming_known_is_sent_but_not_twice_a_day() -> None:
    state = told("backordered", None, on=MON)
    assert decide_notice(state, "backordered", DEC_20, MON) == NoticeDecision("eta_changed", not_before=TUE)
    assert next_notice(state, "backordered", DEC_20, MON) is None
    assert next_notice(state, "backordered", DEC_20, TUE) == "eta_changed"


@pytest.mark.parametrize(
    ("days_earlier", "expected"),
    [(1, None), (2, None), (3, "eta_changed"), (10, "eta_changed")],
)
def test_an_earlier_eta_needs_the_improvement_threshold(days_earlier: int, expected: str | None) -> None:
    state = told("backordered", DEC_20, on=MON)
    assert next_notice(state, "backordered", DEC_20 - timedelta(days=days_earlier), TUE) == expected


def test_the_improvement_threshold_is_configurable() -> None:
    state = told("backordered", DEC_20, on=MON)
    new_eta = DEC_20 - timedelta(days=2)
    assert next_notice(state, "backordered", new_eta, TUE, eta_improvement_days=2) == "eta_changed"
    assert next_notice(state, "backordered", new_eta, TUE, eta_improvement_days=5) is None


def test_a_big_improvement_on_the_day_of_another_notice_waits_for_tomorrow() -> None:
    state = told("backordered", DEC_20, on=MON)
    decision = decide_notice(state, "backordered", DEC_20 - timedelta(days=7), MON)
    assert decision.kind == "eta_changed" and not decision.send_now and decision.not_before == TUE


def test_ready_follows_a_delay_notice_once() -> None:
    state = told("eta_changed", DEC_20, on=MON)
    assert next_notice(state, "ok", None, TUE) == "ready"
    assert next_notice(told("ready", None, on=TUE), "ok", None, TUE + timedelta(days=1)) is None


def test_ready_on_the_day_of_the_backorder_notice_waits_for_tomorrow() -> None:
    state = told("backordered", DEC_20, on=MON)
    assert decide_notice(state, "ok", None, MON) == NoticeDecision("ready", not_before=TUE)


def test_backordered_again_after_ready_starts_a_new_episode_at_once() -> None:
    state = told("ready", None, on=MON)
    assert next_notice(state, "backordered", DEC_20, MON) == "backordered"


def test_record_sent_keeps_the_eta_only_for_delay_notices() -> None:
    assert record_sent("eta_changed", DEC_20, MON) == NoticeState("eta_changed", DEC_20, MON)
    assert record_sent("ready", DEC_20, MON) == NoticeState("ready", None, MON)
    assert record_sent("backordered", DEC_20, MON).customer_waiting
    assert not record_sent("ready", None, MON).customer_waiting


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        next_notice(None, "shipped", None, MON)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eta_improvement_days"):
        next_notice(None, "backordered", None, MON, eta_improvement_days=-1)


# --- fingerprint ----------------------------------------------------------------------------------

LINE_A = NoticeLine("11", "MUG-1", "Blue mug", 2, DEC_20)
LINE_B = NoticeLine("12", "TEE-2", "Tee", 1, None)


def test_fingerprint_is_stable_and_ignores_line_order_and_titles() -> None:
    first = notice_fingerprint("backordered", DEC_20, [LINE_A, LINE_B])
    renamed = NoticeLine("11", "MUG-1", "Blue mug (new name)", 2, DEC_20)
    assert first == notice_fingerprint("backordered", DEC_20, [LINE_B, renamed])
    assert first.startswith("backordered:")


def test_fingerprint_tells_different_notices_apart() -> None:
    base = notice_fingerprint("backordered", DEC_20, [LINE_A])
    others = {
        notice_fingerprint("eta_changed", DEC_20, [LINE_A]),
        notice_fingerprint("backordered", None, [LINE_A]),
        notice_fingerprint("backordered", DEC_20, [LINE_A, LINE_B]),
        notice_fingerprint("backordered", DEC_20, [NoticeLine("11", "MUG-1", "Blue mug", 3, DEC_20)]),
        notice_fingerprint("backordered", DEC_20, [LINE_A], previous=told("ready", None)),
    }
    assert base not in others and len(others) == 5


# --- properties -----------------------------------------------------------------------------------

statuses = st.sampled_from(["backordered", "ok"])
etas = st.one_of(st.none(), st.integers(0, 40).map(lambda n: DEC_20 + timedelta(days=n)))
observations = st.lists(st.tuples(st.integers(0, 2), statuses, etas), max_size=40)


def _rank(kind: str, eta: date | None) -> int:
    if kind == "ready":
        return -1
    return eta.toordinal() if eta else 10**9


def simulate(steps: list[tuple[int, str, date | None]], improvement: int = 3) -> tuple[list[tuple[date, str, date | None]], NoticeState | None]:
    """Feed decisions to the policy as a reconcile loop would; returns the notices sent and the final state."""
    state: NoticeState | None = None
    today = MON
    sent: list[tuple[date, str, date | None]] = []
    for day_step, status, eta in steps:
        today += timedelta(days=day_step)
        kind = next_notice(state, status, eta, today, improvement)  # type: ignore[arg-type]
        if kind is not None:
            sent.append((today, kind, eta))
            state = record_sent(kind, eta, today)
    return sent, state


@given(observations)
def test_never_two_notices_on_one_day_unless_the_news_got_worse(steps: list[tuple[int, str, date | None]]) -> None:
    sent, _ = simulate(steps)
    for (day_a, kind_a, eta_a), (day_b, kind_b, eta_b) in pairwise(sent):
        if day_a == day_b:
            assert kind_b in ("backordered", "eta_changed")
            assert _rank(kind_b, eta_b) > _rank(kind_a, eta_a)


@given(observations)
def test_ready_and_eta_changed_only_follow_a_delay_notice(steps: list[tuple[int, str, date | None]]) -> None:
    sent, _ = simulate(steps)
    previous_kind = None
    for _, kind, _ in sent:
        if kind in ("ready", "eta_changed"):
            assert previous_kind in ("backordered", "eta_changed")
        else:
            assert previous_kind in (None, "ready")
        previous_kind = kind


@given(observations)
def test_no_notice_repeats_what_the_customer_was_last_told(steps: list[tuple[int, str, date | None]]) -> None:
    sent, _ = simulate(steps)
    for (_, _kind_a, eta_a), (_, kind_b, eta_b) in pairwise(sent):
        if kind_b == "eta_changed":
            assert eta_b != eta_a


@given(observations, statuses, etas)
def test_the_customer_catches_up_within_a_day_once_things_settle(
    steps: list[tuple[int, str, date | None]], status: str, eta: date | None
) -> None:
    sent, state = simulate(steps + [(1, status, eta), (1, status, eta)])
    waiting = state is not None and state.customer_waiting
    assert waiting == (status == "backordered")
    if waiting and state is not None and state.last_eta != eta:
        # Only a small improvement may stay untold.
        assert eta is not None and state.last_eta is not None
        assert 0 < (state.last_eta - eta).days < 3


@given(st.integers(0, 30), st.integers(2, 60), st.booleans())
def test_an_eta_flapping_by_one_day_does_not_spam(start: int, days: int, later_first: bool) -> None:
    low = DEC_20 + timedelta(days=start)
    flips = [low + timedelta(days=(i + later_first) % 2) for i in range(days)]
    sent, _ = simulate([(1, "backordered", eta) for eta in flips])
    assert len(sent) <= 2
    assert sent[0][1] == "backordered"


@given(st.integers(1, 10), st.integers(1, 10), st.integers(0, 5))
def test_a_small_improvement_is_never_sent(threshold: int, earlier_by: int, days_later: int) -> None:
    state = told("backordered", DEC_20, on=MON)
    kind = next_notice(state, "backordered", DEC_20 - timedelta(days=earlier_by), MON + timedelta(days=days_later), threshold)
    assert (kind == "eta_changed") == (earlier_by >= threshold and days_later > 0)


@given(observations, statuses, etas)
def test_a_held_back_notice_is_due_on_its_day(steps: list[tuple[int, str, date | None]], status: str, eta: date | None) -> None:
    sent, state = simulate(steps)
    today = sent[-1][0] if sent else MON
    decision = decide_notice(state, status, eta, today)  # type: ignore[arg-type]
    if decision.not_before is not None:
        assert decide_notice(state, status, eta, decision.not_before) == NoticeDecision(decision.kind)  # type: ignore[arg-type]
