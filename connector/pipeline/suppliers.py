"""Supplier scorecards: deliveries, on-time rate, learned lateness, what is on order and who waits on it.

One computation serves `connector suppliers list`, the lateness CSV and the dashboard's suppliers page.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.engine.lateness import LatenessModel, learn_lateness
from connector.feeds.promises import lateness_samples, open_promise_totals
from connector.store.models import LineDecision, Order, OrderLine, Supplier

_SOURCE = re.compile(r"^supplier (.+?): (?:available now|restock )")


def supplier_of(eta_source: str | None) -> str | None:
    """The supplier an ETA was dated from, read from the line's `eta_source` ("supplier acme: restock ...")."""
    found = _SOURCE.match(eta_source or "")
    return found.group(1) if found else None


SCORECARD_COLUMNS = ("supplier", "deliveries", "on_time_rate", "p50_days", "p80_days", "p90_days", "open_promises",
                     "units_on_order", "backordered_waiting")


@dataclass
class Scorecard:
    supplier: str
    deliveries: int = 0
    on_time_rate: float | None = None
    p50_days: float | None = None
    p80_days: float | None = None
    p90_days: float | None = None
    open_promises: int = 0
    units_on_order: int = 0
    backordered_waiting: int = 0
    histogram: dict[int, int] = field(default_factory=dict)  # days late -> deliveries (raw, not weighted)

    def as_row(self) -> list[object]:
        """The scorecard as a row under SCORECARD_COLUMNS (the CSV export's)."""
        return [self.as_dict()[column] for column in SCORECARD_COLUMNS]

    def as_dict(self) -> dict[str, object]:
        return {"supplier": self.supplier, "deliveries": self.deliveries, "on_time_rate": self.on_time_rate,
                "p50_days": self.p50_days, "p80_days": self.p80_days, "p90_days": self.p90_days,
                "open_promises": self.open_promises, "units_on_order": self.units_on_order,
                "backordered_waiting": self.backordered_waiting}


def waiting_by_supplier(session: Session, shop_id: int | None = None) -> dict[str, int]:
    """Backordered units of open orders whose ETA is dated from each supplier."""
    query = (select(LineDecision.eta_source, LineDecision.backordered)
             .join(OrderLine, OrderLine.id == LineDecision.order_line_id)
             .join(Order, Order.id == OrderLine.order_id)
             .where(Order.is_open.is_(True), LineDecision.backordered > 0))
    if shop_id is not None:
        query = query.where(Order.shop_id == shop_id)
    waiting: dict[str, int] = defaultdict(int)
    for source, backordered in session.execute(query):
        name = supplier_of(source)
        if name:
            waiting[name] += backordered
    return dict(waiting)


def scorecards(session: Session, as_of: date, confidence: float = 0.8,
               shop_id: int | None = None) -> tuple[list[Scorecard], LatenessModel]:
    """One scorecard per supplier known (by feed, promise or delivery), sorted by name, and the model.
    For one shop (the dashboard): its own suppliers and the shared ones, and only its orders waiting."""
    samples = lateness_samples(session, shop_id)
    model = learn_lateness(samples, as_of, confidences=(confidence,))
    known = select(Supplier.name).distinct()
    if shop_id is not None:
        known = known.where(or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}"))
    names = set(session.scalars(known))
    totals = open_promise_totals(session, shop_id)
    waiting = waiting_by_supplier(session, shop_id)
    histograms: dict[str, Counter[int]] = defaultdict(Counter)
    for sample in samples:
        histograms[sample.supplier][sample.days] += 1
    cards = []
    for name in sorted(names | set(model.suppliers) | set(waiting)):
        card = Scorecard(name)
        figure = model.suppliers.get(name)
        if figure is not None:
            card.deliveries = figure.samples
            card.on_time_rate = figure.on_time_rate
            card.p50_days, card.p80_days, card.p90_days = figure.at(0.5), figure.at(0.8), figure.at(0.9)
        card.open_promises, card.units_on_order = totals.get(name, (0, 0))
        card.backordered_waiting = waiting.get(name, 0)
        card.histogram = dict(sorted(histograms[name].items()))
        cards.append(card)
    return cards, model
