"""Pipeline fixtures: a database on SQLite and on PostgreSQL (TEST_DATABASE_URL), services wired to a fake store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connector.services import Services
from connector.settings import load_settings
from connector.store.models import Shop, Supplier, SupplyItem
from connector.store.repo import store_stock, upsert_order
from connector.platforms.base import RemoteOrder, StockRecord
from tests.fakes import FakePlatform

SECRET = "EC4Y982vH_Ad2zCUtpAh6r7m8Kq1eh5JOW4kUmcsuiQ="


@dataclass
class World:
    """Services on a test database with one shop whose store is `platform`."""

    services: Services
    platform: FakePlatform
    shop_id: int
    data_dir: Path
    today: date

    @property
    def db(self):
        return self.services.db

    def store_orders(self, *orders: RemoteOrder) -> None:
        with self.db.session() as session:
            for order in orders:
                upsert_order(session, self.shop_id, order)

    def set_stock(self, **quantities: int) -> None:
        with self.db.session() as session:
            store_stock(
                session, self.shop_id, [StockRecord(sku, "default", qty, item_ref=f"item-{sku}") for sku, qty in quantities.items()],
                complete=True,
            )

    def set_supply(self, sku: str, *, restock_in_days: int | None, qty: int = 100) -> None:
        with self.db.session() as session:
            supplier = session.query(Supplier).filter_by(name="acme").one_or_none()
            if supplier is None:
                supplier = Supplier(scope="all", name="acme", source="feed.csv", column_map={}, rejected=[], row_count=0)
                session.add(supplier)
                session.flush()
            session.query(SupplyItem).filter_by(supplier_id=supplier.id, sku=sku).delete()
            if restock_in_days is not None:
                session.add(
                    SupplyItem(supplier_id=supplier.id, sku=sku, available=0,
                               restock_date=self.today + timedelta(days=restock_in_days), restock_qty=qty, line_no=1)
                )


def make_services(database_url: str, data_dir: Path, platform: FakePlatform, **overrides: object) -> Services:
    settings = load_settings(
        database_url=database_url,
        data_dir=data_dir,
        connector_secret_key=SECRET,
        app_url="http://127.0.0.1:8000",
        smtp_url=None,
        mail_from="Test Shop <orders@shop.example>",
        templates_dir=None,
        **overrides,
    )
    return Services(settings, platform_factory=lambda _services, _shop: platform, migrate=True)


def add_shop(services: Services, *, platform: str = "shopify", domain: str = "test.myshopify.com", **settings: object) -> int:
    with services.db.session() as session:
        shop = Shop(platform=platform, domain=domain, name="Test Shop", settings=dict(settings), active=True)
        session.add(shop)
        session.flush()
        return shop.id


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    platform = FakePlatform()
    services = make_services(database_url, tmp_path / "data", platform)
    shop_id = add_shop(services)
    yield World(services, platform, shop_id, tmp_path / "data", datetime.now(UTC).date())
    services.close()


T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
