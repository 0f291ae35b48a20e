"""Promise history in the database: restock rows recorded as promises on import, receipts settled against them.

- Each import records the supplier's restock rows as promises (`record_promises`). A row with a
  `reference` is the promise with that reference; rows without one match the supplier's listed
  promises of the same SKU in date order (see `connector.engine.promises.match_promises`). A moved
  date is recorded as a `PromiseChange` (a later one counts as a slip); a promise no longer listed stays
  open for receipts, and is withdrawn once it is `WITHDRAWN_AFTER_DAYS` past due with nothing received.
- Receipts (`receive`) settle open promises first come, first served; each settlement is a lateness
  sample. An inferred receipt (a stock rise seen by a sync) may settle any supplier's promise of the
  SKU that is due: promised on or before `DUE_EARLY_DAYS` from the day of the rise.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from connector.engine.lateness import LatenessModel, LatenessSample, learn_lateness
from connector.engine.promises import Arrival, FeedPromise, KnownPromise, OpenPromise, match_promises, settle
from connector.store.models import (
    PromiseChange,
    PromiseSettlement,
    Supplier,
    SupplyItem,
    SupplyPromise,
    SupplyReceipt,
    utcnow,
)
from connector.store.db import rows_changed
from connector.store.repo import insert_or_ignore

WITHDRAWN_AFTER_DAYS = 60
DUE_EARLY_DAYS = 7
_CHUNK = 5000


@dataclass
class PromiseTally:
    """What one import did to the supplier's promises."""

    new: int = 0
    moved: int = 0
    slipped: int = 0
    unlisted: int = 0
    withdrawn: int = 0


def record_promises(session: Session, supplier: Supplier, default_lead_days: int, now: datetime | None = None
                    ) -> PromiseTally:
    """Bring the supplier's promises in line with the rows now in force (call after a successful import)."""
    now = now or utcnow()
    today = now.date()
    tally = PromiseTally()
    rows: list[tuple[FeedPromise, date, int]] = []
    for sku, restock, quantity, lead, reference in session.execute(
        select(SupplyItem.sku, SupplyItem.restock_date, SupplyItem.restock_qty, SupplyItem.lead_time_days,
               SupplyItem.reference)
        .where(SupplyItem.supplier_id == supplier.id, SupplyItem.restock_date.is_not(None))
        .order_by(SupplyItem.sku, SupplyItem.line_no)
    ):
        if quantity is not None and quantity <= 0:
            continue
        days = lead if lead is not None else default_lead_days
        rows.append((FeedPromise(sku, quantity, restock + timedelta(days=max(days, 0)), reference), restock, days))
    details = {id(row): (restock, days) for row, restock, days in rows}
    listed = {
        promise.id: promise
        for promise in session.scalars(
            select(SupplyPromise).where(SupplyPromise.supplier_id == supplier.id, SupplyPromise.status == "open",
                                        SupplyPromise.listed.is_(True))
        )
    }
    known = [KnownPromise(p.id, p.sku, p.promised_on, p.reference) for p in listed.values()]
    matched, new, gone = match_promises([row for row, _restock, _days in rows], known)
    for seen, row in matched:
        promise = listed[seen.promise_id]
        restock, days = details[id(row)]
        if promise.promised_on != row.promised or promise.quantity != row.quantity:
            session.add(PromiseChange(promise_id=promise.id, at=now, old_promised_on=promise.promised_on,
                                      new_promised_on=row.promised, old_quantity=promise.quantity,
                                      new_quantity=row.quantity))
            if row.promised != promise.promised_on:
                tally.moved += 1
            if row.promised > promise.promised_on:
                promise.slips += 1
                tally.slipped += 1
        promise.promised_on, promise.quantity = row.promised, row.quantity
        promise.restock_date, promise.lead_time_days = restock, days
        promise.last_seen_at = now
    referenced = sorted({row.reference for row in new if row.reference})
    closed: dict[tuple[str, str | None], SupplyPromise] = {}
    for start in range(0, len(referenced), 500):
        for seen_before in session.scalars(
            select(SupplyPromise).where(SupplyPromise.supplier_id == supplier.id,
                                        SupplyPromise.reference.in_(referenced[start : start + 500]))
        ):
            closed[(seen_before.sku, seen_before.reference)] = seen_before
    fresh = []
    for row in new:
        known_before = closed.get((row.sku, row.reference)) if row.reference else None
        if known_before is not None:  # settled or dropped before, listed again: the same promise, seen again
            known_before.last_seen_at = now
            if known_before.status == "open":
                known_before.listed = True
            continue
        restock, days = details[id(row)]
        fresh.append({"supplier_id": supplier.id, "sku": row.sku, "reference": row.reference, "quantity": row.quantity,
                      "received": 0, "restock_date": restock, "lead_time_days": days, "promised_on": row.promised,
                      "first_promised_on": row.promised, "slips": 0, "status": "open", "listed": True,
                      "first_seen_at": now, "last_seen_at": now})
    for start in range(0, len(fresh), _CHUNK):
        session.execute(insert(SupplyPromise.__table__), fresh[start : start + _CHUNK])
    tally.new = len(fresh)
    for seen in gone:
        promise = listed[seen.promise_id]
        promise.listed = False
        tally.unlisted += 1
    overdue = today - timedelta(days=WITHDRAWN_AFTER_DAYS)
    tally.withdrawn = rows_changed(
        session,
        update(SupplyPromise)
        .where(SupplyPromise.supplier_id == supplier.id, SupplyPromise.status == "open",
               SupplyPromise.listed.is_(False), SupplyPromise.received == 0, SupplyPromise.promised_on < overdue)
        .values(status="withdrawn", closed_on=today),
    )
    session.flush()
    return tally


def touch_promises(session: Session, supplier: Supplier, now: datetime | None = None) -> None:
    """An unchanged import still saw the listed promises."""
    session.execute(
        update(SupplyPromise)
        .where(SupplyPromise.supplier_id == supplier.id, SupplyPromise.status == "open", SupplyPromise.listed.is_(True))
        .values(last_seen_at=now or utcnow())
    )


@dataclass(frozen=True, slots=True)
class Receipt:
    """Units that arrived (a receipts file row, or a stock rise); `key` makes recording it idempotent."""

    arrival: Arrival
    key: str
    source: str = "file"
    shop_id: int | None = None


@dataclass
class ReceiveResult:
    receipts: int = 0  # newly recorded
    repeated: int = 0  # already recorded before (same receipt imported again)
    settled_units: int = 0
    unmatched_units: int = 0
    promises_closed: int = 0
    samples: list[tuple[str, int]] = field(default_factory=list)  # (promise label, days late)


def receipt_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if part is None else str(part) for part in parts).encode()).hexdigest()


def _open_promises(session: Session, arrival: Arrival, shop_id: int | None) -> list[tuple[SupplyPromise, str]]:
    query = (select(SupplyPromise, Supplier.name).join(Supplier, Supplier.id == SupplyPromise.supplier_id)
             .where(SupplyPromise.sku == arrival.sku, SupplyPromise.status == "open"))
    if arrival.supplier is not None:
        query = query.where(Supplier.name == arrival.supplier)
    else:
        query = query.where(SupplyPromise.promised_on <= arrival.received_on + timedelta(days=DUE_EARLY_DAYS))
    if shop_id is not None:
        query = query.where(or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}"))
    return [(promise, name) for promise, name in session.execute(query)]


def receive(session: Session, receipts: Iterable[Receipt]) -> ReceiveResult:
    """Record each receipt once and settle it against open promises first come, first served."""
    result = ReceiveResult()
    for receipt in receipts:
        arrival = receipt.arrival
        inserted = insert_or_ignore(
            session, SupplyReceipt.__table__,
            {"receipt_key": receipt.key, "shop_id": receipt.shop_id, "supplier": arrival.supplier, "sku": arrival.sku,
             "quantity": arrival.quantity, "received_on": arrival.received_on, "reference": arrival.reference,
             "source": receipt.source, "unmatched": 0, "created_at": utcnow()},
            ("receipt_key",),
        )
        if not inserted:
            result.repeated += 1
            continue
        result.receipts += 1
        stored = session.execute(select(SupplyReceipt).where(SupplyReceipt.receipt_key == receipt.key)).scalar_one()
        found = _open_promises(session, arrival, receipt.shop_id)
        by_id = {promise.id: (promise, name) for promise, name in found}
        open_promises = [
            OpenPromise(p.id, name, p.sku, (p.quantity - p.received) if p.quantity is not None else arrival.quantity,
                        p.promised_on, p.id, p.reference, p.listed)
            for p, name in found
        ]
        settlements, left = settle(arrival, open_promises)
        for settlement in settlements:
            promise, name = by_id[settlement.promise_id]
            session.add(PromiseSettlement(promise_id=promise.id, receipt_id=stored.id, quantity=settlement.quantity,
                                          received_on=arrival.received_on, lateness_days=settlement.lateness_days))
            promise.received += settlement.quantity
            if promise.quantity is None or promise.received >= promise.quantity:
                promise.status = "received"
                promise.closed_on = arrival.received_on
                result.promises_closed += 1
            result.settled_units += settlement.quantity
            result.samples.append((f"{name} {promise.sku} due {promise.promised_on.isoformat()}",
                                   settlement.lateness_days))
        stored.unmatched = left
        result.unmatched_units += left
    session.flush()
    return result


def infer_arrivals(session: Session, shop_id: int, rises: Mapping[str, tuple[int, int]], day: date) -> ReceiveResult:
    """Stock of these SKUs rose (old, new units) in a sync on `day`: each rise settles due promises."""
    receipts = [
        Receipt(Arrival(None, sku, new - old, day), receipt_key("inferred", shop_id, sku, day, old, new), "inferred",
                shop_id)
        for sku, (old, new) in sorted(rises.items()) if new > old
    ]
    return receive(session, receipts) if receipts else ReceiveResult()


def lateness_samples(session: Session, shop_id: int | None = None) -> list[LatenessSample]:
    """Every settled delivery as a lateness sample (for one shop: its suppliers and the shared ones)."""
    query = (select(Supplier.name, SupplyPromise.sku, PromiseSettlement.received_on, PromiseSettlement.lateness_days,
                    PromiseSettlement.quantity)
             .join(SupplyPromise, SupplyPromise.id == PromiseSettlement.promise_id)
             .join(Supplier, Supplier.id == SupplyPromise.supplier_id))
    if shop_id is not None:
        query = query.where(or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}"))
    return [LatenessSample(name, sku, received - timedelta(days=late), received, quantity)
            for name, sku, received, late, quantity in session.execute(query)]


def lateness_model(session: Session, as_of: date, confidence: float, shop_id: int | None = None) -> LatenessModel:
    return learn_lateness(lateness_samples(session, shop_id), as_of, confidences=(confidence,))


def open_promise_totals(session: Session, shop_id: int | None = None) -> dict[str, tuple[int, int]]:
    """Per supplier name: (open promises, units still on order); for one shop, its suppliers and the shared ones."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    query = (select(Supplier.name, SupplyPromise.quantity, SupplyPromise.received)
             .join(Supplier, Supplier.id == SupplyPromise.supplier_id).where(SupplyPromise.status == "open"))
    if shop_id is not None:
        query = query.where(or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}"))
    for name, quantity, received in session.execute(query):
        totals[name][0] += 1
        totals[name][1] += max((quantity or 0) - received, 0)
    return {name: (count, units) for name, (count, units) in totals.items()}
