"""Settling arrivals against supply promises first come, first served, and matching re-imported feed rows to promises.

A promise is a supplier's word that `quantity` units of a SKU arrive on `promised` (restock date + lead).
An arrival settles open promises of its supplier and SKU: the one with its `reference` first when it
names one, then the rest by promised date (earliest first), then by when they were first seen. Each
settlement is one lateness sample, `received_on - promised`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class OpenPromise:
    """What the engine needs of a stored promise: its id, what is still owed, and when it was due."""

    promise_id: int
    supplier: str
    sku: str
    outstanding: int
    promised: date
    first_seen_order: int = 0  # ties on `promised` go to the promise seen first
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Arrival:
    supplier: str | None  # None: an inferred arrival, which may settle any supplier's promise of the SKU
    sku: str
    quantity: int
    received_on: date
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    promise_id: int
    quantity: int
    lateness_days: int


def settle(arrival: Arrival, promises: Iterable[OpenPromise]) -> tuple[list[Settlement], int]:
    """The settlements `arrival` makes, and the units it leaves over (received but promised by no one)."""
    candidates = [p for p in promises if p.sku == arrival.sku and p.outstanding > 0
                  and (arrival.supplier is None or p.supplier == arrival.supplier)]
    candidates.sort(key=lambda p: (not (arrival.reference and p.reference == arrival.reference),
                                   p.promised, p.first_seen_order, p.promise_id))
    left = arrival.quantity
    settlements: list[Settlement] = []
    for promise in candidates:
        if left <= 0:
            break
        taken = min(left, promise.outstanding)
        settlements.append(Settlement(promise.promise_id, taken, (arrival.received_on - promise.promised).days))
        left -= taken
    return settlements, left


@dataclass(frozen=True, slots=True)
class FeedPromise:
    """One restock row of a feed as a promise: what the supplier says now."""

    sku: str
    quantity: int | None
    promised: date
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class KnownPromise:
    promise_id: int
    sku: str
    promised: date
    reference: str | None = None


def match_promises(
    rows: Sequence[FeedPromise], known: Sequence[KnownPromise]
) -> tuple[list[tuple[KnownPromise, FeedPromise]], list[FeedPromise], list[KnownPromise]]:
    """Pair a re-imported feed's promises with the open ones already known: (matched, new, no longer listed).

    The rule: rows with a `reference` match the known promise of that SKU and reference. Rows without
    one match, per SKU, the known promises without a reference in date order: the earliest row with
    the earliest promise, the next with the next, and so on, so a moved date is that promise's slip
    rather than a new promise. Rows left over are new promises; known promises left over are no
    longer in the feed.
    """
    by_reference = {(p.sku, p.reference): p for p in known if p.reference}
    unreferenced: dict[str, list[KnownPromise]] = {}
    for promise in sorted((p for p in known if not p.reference), key=lambda p: (p.promised, p.promise_id)):
        unreferenced.setdefault(promise.sku, []).append(promise)
    matched: list[tuple[KnownPromise, FeedPromise]] = []
    new: list[FeedPromise] = []
    used: set[int] = set()
    plain: dict[str, list[FeedPromise]] = {}
    for row in rows:
        if row.reference:
            found = by_reference.get((row.sku, row.reference))
            if found is not None and found.promise_id not in used:
                used.add(found.promise_id)
                matched.append((found, row))
            else:
                new.append(row)
        else:
            plain.setdefault(row.sku, []).append(row)
    for sku, sku_rows in plain.items():
        queue = unreferenced.get(sku, [])
        for index, row in enumerate(sorted(sku_rows, key=lambda r: r.promised)):
            if index < len(queue):
                used.add(queue[index].promise_id)
                matched.append((queue[index], row))
            else:
                new.append(row)
    gone = [p for p in known if p.promise_id not in used]
    return matched, new, gone
