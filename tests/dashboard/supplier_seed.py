"""Seeds supplier history for the Suppliers and Outcomes pages: promises, late receipts and promises told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connector.feeds.importer import import_feed
from connector.feeds.promises import receive
from connector.feeds.receipts import parse_receipts
from connector.services import Services
from connector.store.models import LinePromise, OrderLine
from tests.dashboard.dashboard_seed import Seeded

# Shared by every shop; late by these days on its six deliveries.
OCEAN = "Ocean Freight"
OCEAN_LATE = (0, 2, 4, 7, 9, 12)
# Alpha's own supplier, named like a spreadsheet formula: every CSV export must neutralise it.
FORMULA = "=HYPERLINK(\"http://evil.example\")"
FORMULA_LATE = (-2, 3)


def _deliveries(services: Services, folder: Path, name: str, late: tuple[int, ...], shop_id: int | None) -> None:
    promised = datetime.now(UTC).date() - timedelta(days=60)
    feed = folder / f"{len(name)}-{shop_id}.csv"
    feed.write_text("sku,restock_date,restock_qty,lead_time_days,reference\n"
                    + "".join(f"SKU-RED,{promised},1,0,PO-{n}\n" for n in range(len(late))))
    quoted = '"' + name.replace('"', '""') + '"'
    receipts = ("supplier,sku,quantity,received_on,reference\n"
                + "".join(f"{quoted},SKU-RED,1,{promised + timedelta(days=days)},PO-{n}\n"
                          for n, days in enumerate(late)))
    parsed = parse_receipts(receipts.encode(), "receipts.csv")
    assert not parsed.rejected, parsed.rejected
    with services.db.session() as session:
        result = import_feed(session, str(feed), name, shop_id=shop_id,
                             now=datetime.now(UTC) - timedelta(days=70))
        assert result.status == "imported", result.line()
        receive(session, parsed.receipts)


def add_supplier_history(services: Services, seeded: Seeded, folder: Path) -> None:
    """Deliveries of OCEAN (shared) and FORMULA (alpha's), and two promises told to alpha's customers:
    Ada's kept, Alan's missed."""
    _deliveries(services, folder, OCEAN, OCEAN_LATE, None)
    _deliveries(services, folder, FORMULA, FORMULA_LATE, seeded.shops["alpha"])
    today = seeded.today
    with services.db.session() as session:
        for order, outcome in (("ada", "kept"), ("alan", "missed")):
            line = session.scalars(select(OrderLine).where(OrderLine.order_id == seeded.orders[order],
                                                           OrderLine.sku == "SKU-RED")).one()
            session.add(LinePromise(order_line_id=line.id, order_id=line.order_id, shop_id=seeded.shops["alpha"],
                                    sku="SKU-RED", supplier=OCEAN, units=1, first_eta=today - timedelta(days=2),
                                    first_told_on=today - timedelta(days=9), history=[], outcome=outcome,
                                    ready_on=today - timedelta(days=3 if outcome == "kept" else 0)))
