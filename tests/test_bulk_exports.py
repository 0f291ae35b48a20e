"""The database-backed ExportStore: staged lines joined by parent id, one export in flight per shop, and
reads that never wait for the sync's own open write (SQLite's write lock)."""

from __future__ import annotations

import json
import random

from sqlalchemy import func, select

from connector.services import Services
from connector.store.exports import DatabaseExportStore, record_export_finished
from connector.store.models import BulkExport, BulkExportRow, Order, Shop, utcnow
from tests.test_store import add_shop


def _rows(orders: int, lines: int) -> list[tuple[str, str | None, str]]:
    rows: list[tuple[str, str | None, str]] = []
    for number in range(orders):
        order = f"gid://shopify/Order/{number}"
        rows.append((order, None, json.dumps({"id": order})))
        for line in range(lines):
            line_id = f"gid://shopify/LineItem/{number * 100 + line}"
            rows.append((line_id, order, json.dumps({"id": line_id, "__parentId": order})))
    random.Random(11).shuffle(rows)  # children before and after their parents
    return rows


def test_staged_lines_come_back_joined_in_arrival_order(services: Services) -> None:
    store = DatabaseExportStore(services.db, add_shop(services))
    rows = _rows(1200, 3)
    store.remember("gid://shopify/BulkOperation/1")
    assert store.stage("gid://shopify/BulkOperation/1", iter(rows)) == len(rows)
    batches = list(store.parents("gid://shopify/BulkOperation/1", 500))
    assert [len(batch) for batch in batches] == [500, 500, 200]
    parents = [record_id for batch in batches for record_id, _ in batch]
    assert parents == [record_id for record_id, parent, _ in rows if parent is None]
    children = store.children("gid://shopify/BulkOperation/1", parents[:2])
    expected = {parent: [body for _, p, body in rows if p == parent] for parent in parents[:2]}
    assert children == expected and all(len(bodies) == 3 for bodies in children.values())
    store.discard()
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(BulkExportRow)) == 0


def test_one_export_is_in_flight_per_shop_and_a_finish_is_recorded(services: Services) -> None:
    shop_id = add_shop(services)
    store = DatabaseExportStore(services.db, shop_id)
    assert store.pending() is None
    store.remember("gid://shopify/BulkOperation/1")
    store.remember("gid://shopify/BulkOperation/2")  # the first was abandoned
    pending = store.pending()
    assert pending is not None and pending.operation_id == "gid://shopify/BulkOperation/2" and not pending.finished
    with services.db.session() as session:
        export = record_export_finished(session, shop_id, "gid://shopify/BulkOperation/2", "COMPLETED", None)
        assert export is not None and export.consumed_at is None
        assert record_export_finished(session, shop_id, "gid://shopify/BulkOperation/9", "COMPLETED", None) is None
    assert store.finished("gid://shopify/BulkOperation/2")
    assert store.pending() == type(pending)("gid://shopify/BulkOperation/2", True)
    store.stage("gid://shopify/BulkOperation/2", ())
    assert store.pending() is None  # read: nobody adopts it again
    with services.db.session() as session:
        assert {e.operation_id: e.consumed_at is not None for e in session.scalars(select(BulkExport))} == {
            "gid://shopify/BulkOperation/1": True, "gid://shopify/BulkOperation/2": True}


def test_staged_lines_are_read_while_the_sync_holds_an_open_write(services: Services) -> None:
    shop_id = add_shop(services)
    store = DatabaseExportStore(services.db, shop_id)
    store.stage("gid://shopify/BulkOperation/3", iter(_rows(10, 2)))
    with services.db.session() as session:  # the sync storing orders, mid-transaction
        session.add(Order(shop_id=shop_id, platform_id="1", name="#1", created_at=utcnow(), updated_at=utcnow(),
                          is_open=True))
        session.flush()
        batches = list(store.parents("gid://shopify/BulkOperation/3", 4))
        assert sum(len(batch) for batch in batches) == 10
        assert len(store.children("gid://shopify/BulkOperation/3", [batches[0][0][0]])[batches[0][0][0]]) == 2


def test_a_shop_erased_takes_its_exports_with_it(services: Services) -> None:
    shop_id = add_shop(services)
    DatabaseExportStore(services.db, shop_id).stage("gid://shopify/BulkOperation/4", iter(_rows(3, 1)))
    with services.db.session() as session:
        session.delete(session.get(Shop, shop_id))
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(BulkExportRow)) == 0
        assert session.scalar(select(func.count()).select_from(BulkExport)) == 0
