"""The mail-order rule's clock (16 CFR 435) as a pure function: deadlines, consent, renewals, refund days."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.mailorder import (
    Answer,
    SentNotice,
    add_working_days,
    answer_by,
    delay_notice_due,
    notice_needed,
    refund_due_by,
    rule_state,
    working_days_left,
)

ORDERED = date(2026, 3, 2)  # a Monday


def day(n: int) -> date:
    return ORDERED + timedelta(days=n)


def test_deadline_is_the_first_eta_told_else_thirty_days() -> None:
    told = rule_state(ORDERED, [SentNotice(day(0), day(10))], [], day(1))
    assert (told.deadline, told.deadline_source, told.phase) == (day(10), "first_eta", "on_time")
    untold = rule_state(ORDERED, [SentNotice(day(0), None)], [], day(1))
    assert (untold.deadline, untold.deadline_source) == (day(30), "order_date")
    assert untold.silent_limit == day(60)


def test_a_notice_is_due_just_before_the_deadline_when_the_order_will_not_make_it() -> None:
    state = rule_state(ORDERED, [SentNotice(day(0), day(10))], [], day(8))
    assert state.notice_due == "delay"
    assert delay_notice_due(state, day(20), day(8)) == "delay"  # later ETA: tell now
    assert delay_notice_due(state, day(10), day(8)) is None  # still on time: nothing to tell yet
    # the deadline came unshipped with no later date known: a notice without a date, needing an answer
    assert delay_notice_due(state, day(10), day(10)) == "renewed"
    assert delay_notice_due(state, None, day(9)) == "renewed"  # no date to give: explicit consent needed
    assert rule_state(ORDERED, [SentNotice(day(0), day(10))], [], day(7)).notice_due is None


def test_first_delay_is_consented_by_silence_a_second_needs_an_answer() -> None:
    first = [SentNotice(day(0), day(10)), SentNotice(day(8), day(25))]
    state = rule_state(ORDERED, first, [], day(20))
    assert (state.phase, state.in_force, state.delay_notices) == ("consented", day(25), 1)
    assert notice_needed(state, day(40)) == "renewed"
    renewed = [*first, SentNotice(day(20), day(45))]
    waiting = rule_state(ORDERED, renewed, [], day(25))
    assert (waiting.phase, waiting.cancel_due_on, waiting.in_force) == ("awaiting_consent", day(26), day(25))
    assert rule_state(ORDERED, renewed, [], day(26)).phase == "cancel_due"
    agreed = rule_state(ORDERED, renewed, [Answer(day(21), "wait")], day(30))
    assert (agreed.phase, agreed.in_force) == ("consented_explicitly", day(45))


def test_a_first_delay_beyond_thirty_days_or_without_a_date_is_a_renewed_notice() -> None:
    base = rule_state(ORDERED, [SentNotice(day(0), day(10))], [], day(5))
    assert notice_needed(base, day(40)) == "delay"
    assert notice_needed(base, day(41)) == "renewed"
    assert notice_needed(base, None) == "renewed"
    assert notice_needed(base, day(9)) is None  # earlier: no delay at all
    far = rule_state(ORDERED, [SentNotice(day(0), day(10)), SentNotice(day(5), day(50))], [], day(12))
    assert (far.phase, far.cancel_due_on) == ("cancel_due", day(11))


def test_a_late_renewed_notice_still_leaves_days_to_answer() -> None:
    notices = [SentNotice(day(0), day(10)), SentNotice(day(8), day(20)), SentNotice(day(20), day(40))]
    state = rule_state(ORDERED, notices, [], day(21))
    assert state.cancel_due_on == day(24) and state.phase == "awaiting_consent"
    before = rule_state(ORDERED, notices[:2], [], day(20))
    assert answer_by(before, day(20)) == day(23)


def test_cancel_chosen_and_shipped_orders() -> None:
    notices = [SentNotice(day(0), day(10))]
    chose = rule_state(ORDERED, notices, [Answer(day(3), "cancel")], day(4))
    assert chose.must_cancel and chose.cancel_due_on == day(3)
    assert rule_state(ORDERED, notices, [Answer(day(3), "cancel")], day(4), shipped=True).phase == "closed"


def test_refunds_are_due_within_seven_working_days() -> None:
    friday = date(2026, 3, 6)
    assert refund_due_by(friday) == date(2026, 3, 17)  # Mon..Fri, Mon, Tue
    assert add_working_days(friday, 1) == date(2026, 3, 9)
    assert working_days_left(friday, refund_due_by(friday)) == 7
    assert working_days_left(date(2026, 3, 18), date(2026, 3, 17)) == -1


@settings(max_examples=40)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 40))
def test_working_days_skip_weekends_and_count_back(start: date, days: int) -> None:
    end = add_working_days(start, days)
    assert end.weekday() < 5 or days == 0
    assert working_days_left(start, end) == days
    assert (end - start).days <= days * 7 // 5 + 3


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(1, 80), st.one_of(st.none(), st.integers(1, 120))), max_size=6),
       st.integers(0, 150))
def test_the_deadline_in_force_never_moves_earlier_than_the_original(raw: list[tuple[int, int | None]],
                                                                     today: int) -> None:
    notices = [SentNotice(day(0), day(10))] + [SentNotice(day(s), day(e) if e else None) for s, e in sorted(raw, key=lambda t: t[0])]
    state = rule_state(ORDERED, notices, [], day(today))
    assert state.deadline == day(10)
    if state.in_force is not None:
        assert state.in_force >= state.deadline
    if state.phase == "cancel_due":
        assert state.cancel_due_on is not None and day(today) >= state.cancel_due_on


def test_an_order_first_told_after_its_thirty_days_counts_that_notice_as_the_first_delay() -> None:
    late = rule_state(ORDERED, [SentNotice(day(45), None)], [], day(46))
    assert (late.phase, late.in_force, late.notice_due, late.delay_notices) == ("consented", day(75), None, 1)
    assert rule_state(ORDERED, [SentNotice(day(45), None)], [], day(73)).notice_due == "renewed"
    on_time = rule_state(ORDERED, [SentNotice(day(2), None)], [], day(3))
    assert (on_time.phase, on_time.in_force) == ("on_time", day(30))
