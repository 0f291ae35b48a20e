"""Pipeline fixtures: a database on SQLite and on PostgreSQL (TEST_DATABASE_URL), services wired to a fake store."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `tests.fakes` resolves however pytest was started
    sys.path.insert(0, str(REPO_ROOT))

from connector.services import Services  # noqa: E402
from connector.settings import load_settings
from connector.store.models import Shop, Supplier, SupplyItem
from connector.store.repo import store_stock, upsert_order
from connector.platforms.base import RemoteOrder, StockRecord
from tests.fakes import FakePlatform

PG_ENV = "TEST_DATABASE_URL"
SECRET = "pipeline-test-secret-key-0123456789"


def postgres_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/connector.db"
        return
    base = postgres_base_url()
    if not base:
        pytest.skip(f"{PG_ENV} is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    yield from _postgres_schema(base)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = postgres_base_url()
    if not base:
        pytest.skip(f"{PG_ENV} is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    yield from _postgres_schema(base)


def _postgres_schema(base: str) -> Iterator[str]:
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base[len("postgresql://") :]
    schema = f"pipeline_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class World:
    """Services on a test database with one shop whose store is `platform`."""

    services: Services
    platform: FakePlatform
    shop_id: int
    data_dir: Path
    today: date

    @property
    def db(self):  # noqa: ANN201 - the Database
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
    return Services(settings, platform_factory=lambda _services, _shop: platform)


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
