"""The US mail-order rule's clock (16 CFR 435) for one backordered order; pure, no I/O.

The rule as the connector keeps it:

* The shipping deadline is the first ETA the customer was told, or the order date + 30 days when no
  date was stated. An order first told (without a date) only as those 30 days run out, such as one older
  than the connector's install, counts that first notice as its first delay notice: silence consents
  for 30 days from it.
* Before a deadline passes unshipped, the customer must have had a delay notice with a new date and
  the choice to keep waiting or cancel (`notice_due` says which notice, and from which day).
* The first delay notice (a new date no more than 30 days past the original deadline) counts as
  consent by silence: the deadline in force moves to its date.
* Any further delay, a first delay of more than 30 days, or a delay without a date is a *renewed*
  notice: it needs the customer's explicit "keep waiting". Without one, the order is treated as
  cancelled once the deadline in force (the one before the renewed notice) passes.
* A customer who chooses cancel is owed a refund within 7 working days (Monday to Friday; public
  holidays are not known here, so the count is the strict one that ignores them).

Everything is computed from what was *sent* (`SentNotice`) and what the customer *answered*
(`Answer`), so the state can be recomputed any day from the record and shown on the order page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

NO_DATE_DEADLINE_DAYS = 30
SILENT_CONSENT_DAYS = 30
REFUND_WORKING_DAYS = 7
NOTICE_LEAD_DAYS = 2  # a delay notice goes out this many days before the deadline it replaces
# A renewed notice sent late (close to or after the deadline in force) still gives the customer this many
# days to answer before the order counts as cancelled.
MIN_ANSWER_DAYS = 3

Phase = Literal["on_time", "consented", "awaiting_consent", "consented_explicitly", "cancel_due", "cancel_chosen",
                "closed"]
NoticeNeed = Literal["delay", "renewed"]


@dataclass(frozen=True, slots=True)
class SentNotice:
    """A delay notice that went out: the day, and the date it stated (None: no date known)."""

    sent_on: date
    eta: date | None


@dataclass(frozen=True, slots=True)
class Answer:
    """The customer's answer to a delay notice, on the day they gave it."""

    on: date
    choice: Literal["wait", "cancel"]


@dataclass(frozen=True, slots=True)
class RuleState:
    """Where one order stands under the rule on `today`."""

    phase: Phase
    deadline: date  # the original shipping deadline
    deadline_source: Literal["first_eta", "order_date"]
    in_force: date | None  # the deadline the customer has agreed to (None: an indefinite delay they accepted)
    silent_limit: date  # the latest date silence can consent to (original deadline + 30 days)
    delay_notices: int  # notices that moved the deadline (the first is the silent-consent one)
    renewed_on: date | None  # the renewed notice awaiting (or given) explicit consent
    notice_due: NoticeNeed | None  # a notice that must go out now, before `in_force` passes
    cancel_due_on: date | None  # the day the order counts as cancelled without an explicit "keep waiting"

    @property
    def must_cancel(self) -> bool:
        return self.phase in ("cancel_due", "cancel_chosen")


def add_working_days(start: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `start`."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    left = days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def working_days_left(today: date, due: date) -> int:
    """Working days from `today` until `due` (negative once it has passed)."""
    if due < today:
        return -_count_working(due, today)
    return _count_working(today, due)


def _count_working(start: date, end: date) -> int:
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


def refund_due_by(cancelled_on: date) -> date:
    """The last day the refund may reach the customer: 7 working days after the cancel."""
    return add_working_days(cancelled_on, REFUND_WORKING_DAYS)


def original_deadline(ordered_on: date, first_eta: date | None) -> tuple[date, Literal["first_eta", "order_date"]]:
    """The first ETA told to the customer, or the order date + 30 days when none was stated."""
    if first_eta is not None:
        return first_eta, "first_eta"
    return ordered_on + timedelta(days=NO_DATE_DEADLINE_DAYS), "order_date"


def rule_state(
    ordered_on: date,
    notices: Sequence[SentNotice],
    answers: Sequence[Answer],
    today: date,
    *,
    shipped: bool = False,
) -> RuleState:
    """The rule's state for an order placed on `ordered_on` that was told `notices` (oldest first,
    the first being the backorder notice whose date, if any, set the deadline) and answered `answers`.
    `shipped`: nothing backordered is left to ship (or the order was closed by the store)."""
    ordered = sorted(notices, key=lambda n: n.sent_on)
    first_eta = ordered[0].eta if ordered else None
    deadline, source = original_deadline(ordered_on, first_eta)
    silent_limit = deadline + timedelta(days=SILENT_CONSENT_DAYS)
    in_force: date | None = deadline
    delays = 0
    if ordered and first_eta is None and ordered[0].sent_on >= deadline - timedelta(days=NOTICE_LEAD_DAYS):
        # Told for the first time only as the 30 days ran out (an order older than the connector's install):
        # that first notice is the first delay notice, consented to by silence for 30 days from it.
        in_force = ordered[0].sent_on + timedelta(days=SILENT_CONSENT_DAYS)
        silent_limit = max(silent_limit, in_force)
        delays = 1
    renewed_on: date | None = None
    renewal_deadline: date | None = None  # the in-force date when the renewed notice went out
    renewal_eta: date | None = None
    explicit = False
    for notice in ordered[1:]:
        if in_force is not None and notice.eta is not None and notice.eta <= in_force:
            continue  # an earlier or equal date: no delay, nothing to consent to
        if delays == 0 and notice.eta is not None and notice.eta <= silent_limit:
            in_force = notice.eta  # the first delay: silence consents
            delays = 1
            continue
        delays += 1
        if renewed_on is None or explicit:
            # a new renewal; an explicit "wait" to an earlier one carried the deadline to its date
            floor = notice.sent_on + timedelta(days=MIN_ANSWER_DAYS)
            renewal_deadline = floor if in_force is None else max(in_force, floor)
        renewed_on, renewal_eta = notice.sent_on, notice.eta
        explicit = _answered_wait(answers, renewed_on)
        if explicit:
            in_force = renewal_eta
    cancel_chosen = any(a.choice == "cancel" for a in answers)
    common = {"deadline": deadline, "deadline_source": source, "silent_limit": silent_limit,
              "delay_notices": delays, "renewed_on": renewed_on}
    if shipped:
        return RuleState("closed", in_force=in_force, notice_due=None, cancel_due_on=None, **common)  # type: ignore[arg-type]
    if cancel_chosen:
        chosen = max(a.on for a in answers if a.choice == "cancel")
        return RuleState("cancel_chosen", in_force=in_force, notice_due=None, cancel_due_on=chosen, **common)  # type: ignore[arg-type]
    if renewed_on is not None and not explicit:
        assert renewal_deadline is not None  # a renewal always follows a deadline in force
        due_on = renewal_deadline + timedelta(days=1)
        phase: Phase = "cancel_due" if today >= due_on else "awaiting_consent"
        return RuleState(phase, in_force=renewal_deadline, notice_due=None, cancel_due_on=due_on, **common)  # type: ignore[arg-type]
    phase = "consented_explicitly" if explicit else ("consented" if delays else "on_time")
    need: NoticeNeed | None = None
    if in_force is not None and today >= in_force - timedelta(days=NOTICE_LEAD_DAYS):
        need = "delay" if delays == 0 else "renewed"
    return RuleState(phase, in_force=in_force, notice_due=need, cancel_due_on=None, **common)  # type: ignore[arg-type]


def delay_notice_due(state: RuleState, current_eta: date | None, today: date) -> NoticeNeed | None:
    """The delay notice that must go out today because the deadline in force is near and the order will
    not make it: the current ETA is later or unknown, or the deadline has come."""
    if state.notice_due is None or state.in_force is None:
        return None
    if today >= state.in_force or current_eta is None or current_eta > state.in_force:
        return notice_needed(state, current_eta if current_eta is not None and current_eta > state.in_force else None)
    return None


def answer_by(state: RuleState, sent_on: date) -> date:
    """For a renewed notice sent on `sent_on`: the last day to choose "keep waiting" (the deadline in
    force, but never fewer than MIN_ANSWER_DAYS away)."""
    floor = sent_on + timedelta(days=MIN_ANSWER_DAYS)
    return floor if state.in_force is None else max(state.in_force, floor)


def notice_needed(state: RuleState, new_eta: date | None) -> NoticeNeed | None:
    """Which delay notice telling `new_eta` is: the silent-consent one, or a renewed one that needs an
    explicit answer. None when `new_eta` is no delay past the deadline in force."""
    if state.in_force is not None and new_eta is not None and new_eta <= state.in_force:
        return None
    if state.delay_notices == 0 and new_eta is not None and new_eta <= state.silent_limit:
        return "delay"
    return "renewed"


def _answered_wait(answers: Sequence[Answer], since: date) -> bool:
    """The customer's latest answer on or after `since` is "keep waiting"."""
    later = [a for a in answers if a.on >= since]
    return bool(later) and max(later, key=lambda a: a.on).choice == "wait"
