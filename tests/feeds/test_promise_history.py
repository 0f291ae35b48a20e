"""Worked cases for promise history: imports record restock rows as promises, a moved date is a slip, receipts settle."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from connector.engine.promises import Arrival
from connector.feeds.importer import import_feed
from connector.feeds.promises import Receipt, infer_arrivals, lateness_model, receipt_key, receive, record_promises
from connector.services import Services
from connector.store.repo import ensure_shop
from connector.store.models import PromiseChange, PromiseSettlement, Supplier, SupplyPromise


def feed(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def promises(services: Services) -> list[tuple[str, str | None, int | None, date, date, int, str, bool]]:
    with services.db.session() as session:
        return [(p.sku, p.reference, p.quantity, p.first_promised_on, p.promised_on, p.slips, p.status, p.listed)
                for p in session.scalars(select(SupplyPromise).order_by(SupplyPromise.sku, SupplyPromise.promised_on))]


def test_reimport_records_slips_instead_of_overwriting(services: Services, tmp_path: Path) -> None:
    first = feed(tmp_path, "a1.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                 "MUG,2026-12-01,10,2\nMUG,2026-12-20,5,2\nCUP,2026-12-05,3,\nLAMP,2026-12-03,0,1\nTOY,,4,1\n")
    with services.db.session() as session:
        assert import_feed(session, first, "acme", default_lead_days=7).status == "imported"
    # LAMP's quantity 0 and TOY without a date promise nothing; CUP takes the default lead of 7 days.
    assert promises(services) == [
        ("CUP", None, 3, date(2026, 12, 12), date(2026, 12, 12), 0, "open", True),
        ("MUG", None, 10, date(2026, 12, 3), date(2026, 12, 3), 0, "open", True),
        ("MUG", None, 5, date(2026, 12, 22), date(2026, 12, 22), 0, "open", True),
    ]
    # Both MUG dates move (earliest row -> earliest promise); CUP is gone from the feed.
    second = feed(tmp_path, "a2.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                  "MUG,2026-12-28,5,2\nMUG,2026-12-08,10,2\n")
    with services.db.session() as session:
        import_feed(session, second, "acme", allow_shrink=True)
    assert promises(services) == [
        ("CUP", None, 3, date(2026, 12, 12), date(2026, 12, 12), 0, "open", False),
        ("MUG", None, 10, date(2026, 12, 3), date(2026, 12, 10), 1, "open", True),
        ("MUG", None, 5, date(2026, 12, 22), date(2026, 12, 30), 1, "open", True),
    ]
    with services.db.session() as session:
        changes = sorted((c.old_promised_on, c.new_promised_on) for c in session.scalars(select(PromiseChange)))
    assert changes == [(date(2026, 12, 3), date(2026, 12, 10)), (date(2026, 12, 22), date(2026, 12, 30))]


def test_reference_column_names_the_promise_across_imports(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        import_feed(session, feed(tmp_path, "r1.csv", "sku,restock_date,restock_qty,lead_time_days,po\n"
                                  "MUG,2026-12-01,10,0,PO-1\nMUG,2026-12-10,10,0,PO-2\n"),
                    "acme", column_map={"po": "reference"})
        # PO-2 now comes first: by reference it is still PO-2 that moved, not a swap by date order.
        import_feed(session, feed(tmp_path, "r2.csv", "sku,restock_date,restock_qty,lead_time_days,po\n"
                                  "MUG,2026-11-28,10,0,PO-2\nMUG,2026-12-01,10,0,PO-1\n"),
                    "acme", column_map={"po": "reference"})
    found = {p[1]: p for p in promises(services)}
    assert found["PO-1"][3:6] == (date(2026, 12, 1), date(2026, 12, 1), 0)
    assert found["PO-2"][3:6] == (date(2026, 12, 10), date(2026, 11, 28), 0)  # earlier: a change, not a slip


def test_receipts_settle_first_come_first_served_and_count_once(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        import_feed(session, feed(tmp_path, "a.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                                  "MUG,2026-12-01,4,0\nMUG,2026-12-10,4,0\n"), "acme")
        arrival = Arrival("acme", "MUG", 6, date(2026, 12, 4))
        done = receive(session, [Receipt(arrival, receipt_key("file", "r1"))])
        again = receive(session, [Receipt(arrival, receipt_key("file", "r1"))])
        assert (done.receipts, done.settled_units, done.promises_closed, again.repeated) == (1, 6, 1, 1)
        lateness = sorted((s.quantity, s.lateness_days) for s in session.scalars(select(PromiseSettlement)))
        assert lateness == [(2, -6), (4, 3)]
        statuses = [(p.promised_on, p.received, p.status) for p in
                    session.scalars(select(SupplyPromise).order_by(SupplyPromise.promised_on))]
        assert statuses == [(date(2026, 12, 1), 4, "received"), (date(2026, 12, 10), 2, "open")]
        model = lateness_model(session, date(2026, 12, 5), 0.8)
        assert model.suppliers["acme"].samples == 2


def test_a_stock_rise_settles_a_due_promise_only(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        import_feed(session, feed(tmp_path, "a.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                                  "MUG,2026-12-01,5,0\nCUP,2026-12-30,5,0\n"), "acme")
        shop = ensure_shop(session, "shopify", "demo.myshopify.com", name="Demo", api_url=None)
        result = infer_arrivals(session, shop.id, {"MUG": (0, 5), "CUP": (0, 5), "TOY": (3, 1)}, date(2026, 12, 3))
        assert (result.settled_units, result.unmatched_units) == (5, 5)  # CUP is not due for weeks
        assert [(p.sku, p.status) for p in session.scalars(select(SupplyPromise).order_by(SupplyPromise.sku))] == [
            ("CUP", "open"), ("MUG", "received")]


def test_an_unlisted_promise_is_withdrawn_long_after_it_was_due(services: Services, tmp_path: Path) -> None:
    with services.db.session() as session:
        import_feed(session, feed(tmp_path, "a.csv", "sku,restock_date,restock_qty,lead_time_days\n"
                                  "MUG,2026-01-01,5,0\n"), "acme")
        session.execute(SupplyPromise.__table__.update().values(listed=False))
        supplier = session.scalars(select(Supplier)).one()
        tally = record_promises(session, supplier, 7, datetime(2026, 3, 10, tzinfo=UTC))
        assert tally.withdrawn == 1
