"""Decides which customer notice (if any) an order's new backorder decision calls for; pure, no I/O.

The rules (issue 3, "Customer notifications"):

* ``backordered``: the order became backordered and the customer has not been told about this delay.
* ``eta_changed``: the customer was told about a delay and the order's ETA moved: later, became
  known (unknown -> date), or became unknown again (date -> unknown counts as later). An earlier
  ETA is only worth a message when it is at least ``eta_improvement_days`` earlier, so an ETA that
  flaps by a day does not spam the customer.
* ``ready``: the customer was told about a delay and the order is no longer backordered.
* At most one notice per order per day, unless the ETA got later: bad news is never held back.

Comparisons are always against what the customer was last *told* (``NoticeState``), not against the
previous decision, so a skipped small improvement does not shift the baseline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

NoticeKind = Literal["backordered", "eta_changed", "ready", "cancelled"]
OrderStatus = Literal["backordered", "ok"]

DELAY_KINDS: frozenset[str] = frozenset({"backordered", "eta_changed"})
RANGE_MIN_DAYS = 3  # a range this wide or wider is told as "between ... and ..."; a narrower one as its ETA
# "cancelled" confirms a cancel and refund (pipeline.cancels); the policy below never chooses it.
NOTICE_KINDS: tuple[NoticeKind, ...] = ("backordered", "eta_changed", "ready", "cancelled")


@dataclass(frozen=True, slots=True)
class NoticeState:
    """What the customer was last told about one order.

    ``last_eta`` is the order ETA stated in the last delay notice; None there means "unknown".
    After a ``ready`` notice it is None and means nothing.
    """

    last_kind: NoticeKind | None = None
    last_eta: date | None = None
    last_sent_on: date | None = None

    @property
    def customer_waiting(self) -> bool:
        """The customer has been told about a delay that has not been resolved yet."""
        return self.last_kind in DELAY_KINDS


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One backordered order line as a notice shows it."""

    line_id: str
    sku: str | None
    title: str
    quantity: int  # units backordered (for "ready": units that were backordered)
    eta: date | None  # None: not known yet
    reason: str | None = None  # engine.reasons code: why it is backordered
    reason_note: Mapping[str, str] | None = None  # the merchant's own text for it, per language (notify.reasons)
    # The range the learned lateness model gives (p50 to p90); shown instead of one date when it is
    # RANGE_MIN_DAYS or wider.
    eta_earliest: date | None = None
    eta_latest: date | None = None

    @property
    def label(self) -> str:
        return self.title or self.sku or self.line_id


@dataclass(frozen=True, slots=True)
class NoticeDecision:
    """The notice a decision calls for.

    ``kind`` is None when there is nothing new to tell. ``not_before`` is set when a notice is
    called for but the one-per-day limit holds it back: ask again on that day.
    """

    kind: NoticeKind | None
    not_before: date | None = None

    @property
    def send_now(self) -> bool:
        return self.kind is not None and self.not_before is None


def _delay_rank(eta: date | None) -> int:
    """Orders delay ETAs so that "later" is a plain comparison; unknown is later than any date."""
    return eta.toordinal() if eta is not None else date.max.toordinal() + 1


def decide_notice(
    previous: NoticeState | None,
    status: OrderStatus,
    eta: date | None,
    today: date,
    eta_improvement_days: int = 3,
) -> NoticeDecision:
    """The notice the order's new decision (`status`, order `eta`) calls for, given `previous`.

    `today` is the shop's local date. The order ETA is the latest line ETA (the day the whole order
    can ship); per-line moves that do not move it are not worth a message.
    """
    if status not in ("backordered", "ok"):
        raise ValueError(f"unknown order status {status!r}")
    if eta_improvement_days < 0:
        raise ValueError("eta_improvement_days must not be negative")
    state = previous or NoticeState()
    sent_today = state.last_sent_on is not None and state.last_sent_on >= today

    kind: NoticeKind | None
    got_later = False
    if status == "backordered":
        if not state.customer_waiting:
            kind, got_later = "backordered", True  # from "ships now" to a delay
        elif eta == state.last_eta:
            kind = None
        elif _delay_rank(eta) > _delay_rank(state.last_eta):
            kind, got_later = "eta_changed", True
        elif state.last_eta is None:
            kind = "eta_changed"  # unknown -> known: always worth telling
        else:
            assert eta is not None  # unknown ranks above every date, so the later branch took it
            improved_by = (state.last_eta - eta).days
            kind = "eta_changed" if improved_by >= eta_improvement_days else None
    else:
        kind = "ready" if state.customer_waiting else None

    if kind is None:
        return NoticeDecision(None)
    if sent_today and not got_later:
        return NoticeDecision(kind, not_before=today + timedelta(days=1))
    return NoticeDecision(kind)


def next_notice(
    previous: NoticeState | None,
    status: OrderStatus,
    eta: date | None,
    today: date,
    eta_improvement_days: int = 3,
) -> NoticeKind | None:
    """The notice to send now, or None (nothing new, or held back until tomorrow)."""
    decision = decide_notice(previous, status, eta, today, eta_improvement_days)
    return decision.kind if decision.send_now else None


def record_sent(kind: NoticeKind, eta: date | None, today: date) -> NoticeState:
    """The state after `kind` was sent today stating order ETA `eta`."""
    return NoticeState(last_kind=kind, last_eta=None if kind == "ready" else eta, last_sent_on=today)


def notice_fingerprint(
    kind: NoticeKind,
    eta: date | None,
    lines: Iterable[NoticeLine],
    *,
    previous: NoticeState | None = None,
) -> str:
    """A stable key for one notice, for the outbox's idempotency key.

    The same decision re-computed gives the same key; `previous` (what the customer had been told
    before) makes a repeat of an old notice in a new episode (backordered again after "ready")
    a different key instead of a silently swallowed duplicate.
    """
    state = previous or NoticeState()
    canonical = {
        "v": 1,
        "kind": kind,
        "eta": eta.isoformat() if eta else None,
        "lines": sorted(
            (
                [line.line_id, line.sku or "", line.quantity, line.eta.isoformat() if line.eta else None]
                for line in lines
            ),
            key=json.dumps,
        ),
        "after": [
            state.last_kind,
            state.last_eta.isoformat() if state.last_eta else None,
            state.last_sent_on.isoformat() if state.last_sent_on else None,
        ],
    }
    digest = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
    return f"{kind}:{digest[:24]}"
