"""Storage: migrations match the models, upserts are idempotent, newer data always wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from connector.platforms.base import RemoteLine, RemoteOrder, StockRecord
from connector.services import Services
from connector.store.models import Base, InventoryLevel, Order, OrderLine, Shop
from connector.store.repo import get_cursor, set_cursor, store_stock, upsert_order

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def remote(order_id: str = "1001", updated: datetime = T0, qty: int = 2, lines: int = 1) -> RemoteOrder:
    return RemoteOrder(
        platform_id=order_id, name=f"#{order_id}", created_at=T0, updated_at=updated, is_open=True, status="open",
        lines=tuple(RemoteLine(platform_id=f"{order_id}-{n}", sku=f"SKU-{n}", quantity=qty, open_quantity=qty)
                    for n in range(lines)),
        customer_email="ann@example.com",
    )


def add_shop(services: Services) -> int:
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain="demo.myshopify.com", name="Demo")
        session.add(shop)
        session.flush()
        return shop.id


def test_migrations_create_exactly_the_models(services: Services) -> None:
    with services.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upsert_order_is_idempotent(services: Services) -> None:
    shop_id = add_shop(services)
    for _ in range(3):
        with services.db.session() as session:
            upsert_order(session, shop_id, remote(lines=2))
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 2


def test_older_update_never_overwrites_newer(services: Services) -> None:
    shop_id = add_shop(services)
    with services.db.session() as session:
        assert upsert_order(session, shop_id, remote(updated=T0 + timedelta(hours=1), qty=5))
    with services.db.session() as session:
        assert not upsert_order(session, shop_id, remote(updated=T0, qty=1))
    with services.db.session() as session:
        line = session.scalars(select(OrderLine)).one()
        assert line.quantity == 5
        order = session.scalars(select(Order)).one()
        assert order.updated_at == T0 + timedelta(hours=1)
        assert order.updated_at.tzinfo is not None


def test_removed_lines_are_dropped(services: Services) -> None:
    shop_id = add_shop(services)
    with services.db.session() as session:
        upsert_order(session, shop_id, remote(lines=3))
    with services.db.session() as session:
        upsert_order(session, shop_id, remote(updated=T0 + timedelta(minutes=1), lines=1))
    with services.db.session() as session:
        assert [line.platform_id for line in session.scalars(select(OrderLine))] == ["1001-0"]


def test_complete_stock_read_removes_vanished_levels(services: Services) -> None:
    shop_id = add_shop(services)
    with services.db.session() as session:
        store_stock(session, shop_id, [StockRecord("A", "1", 3), StockRecord("B", "1", 4)], complete=True)
    with services.db.session() as session:
        store_stock(session, shop_id, [StockRecord("A", "1", 5)], complete=True)
    with services.db.session() as session:
        levels = session.execute(select(InventoryLevel.sku, InventoryLevel.quantity)).all()
    assert [tuple(level) for level in levels] == [("A", 5)]


def test_cursor_round_trip(services: Services) -> None:
    shop_id = add_shop(services)
    with services.db.session() as session:
        assert get_cursor(session, shop_id, "orders") is None
        set_cursor(session, shop_id, "orders", T0, 10)
    with services.db.session() as session:
        set_cursor(session, shop_id, "orders", T0 + timedelta(hours=2), 4)
    with services.db.session() as session:
        assert get_cursor(session, shop_id, "orders") == T0 + timedelta(hours=2)


def test_a_webhook_without_an_email_keeps_an_order_marked_contact_withheld(services: Services) -> None:
    from dataclasses import replace

    shop_id = add_shop(services)
    withheld = replace(remote(), customer_email=None, contact_withheld=True)
    with services.db.session() as session:
        upsert_order(session, shop_id, withheld)
        # a later webhook: no email (redacted) and no way to tell why
        upsert_order(session, shop_id, replace(remote(updated=T0 + timedelta(minutes=5)), customer_email=None))
        assert session.scalar(select(Order.contact_withheld)) is True
        upsert_order(session, shop_id, remote(updated=T0 + timedelta(minutes=9)))  # access granted since
        assert session.scalar(select(Order.contact_withheld)) is False
