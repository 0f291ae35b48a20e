"""Issue 14, finding 2 (one dead store stops every store) and finding 3 (an all-clear for a broken store).

`connector sync` and the worker's scheduled sync run the same per-shop orchestration: each shop on
its own, one result line each in the operator's words, exit 1 at the end if any failed, and the
shop's health recorded for the dashboard's banner. Shops and feeds can be disabled and removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from connector.cli import cli
from connector.errors import AuthError, TransportError
from connector.pipeline.executor import run_due_actions
from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.scheduler import SYNC, run_due_jobs, ensure_all_jobs
from connector.pipeline.sync import run_shop_sync
from connector.platforms.base import StockRecord
from connector.services import Services
from connector.store.models import Action, Job, Order, Shop, Supplier
from connector.web.app import create_app
from tests.fakes import FakePlatform, remote_order
from tests.pipeline.conftest import add_shop, make_services

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "shop sync password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
UNREACHABLE = TransportError("could not reach dead.myshopify.com (BulkOperationRunQuery): ConnectionError")


@dataclass
class Fleet:
    services: Services
    stores: dict[int, FakePlatform]
    live: int
    dead: int

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), obj=self.services, input=input, catch_exceptions=False)

    def shop(self, shop_id: int) -> Shop:
        with self.services.db.session() as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None
            return shop


@pytest.fixture
def fleet(database_url: str, tmp_path: Path) -> Iterator[Fleet]:
    stores: dict[int, FakePlatform] = {}
    services = make_services(database_url, tmp_path / "data", FakePlatform(), admin_password=PASSWORD)
    services._platform_factory = lambda _services, shop: stores[shop.id]
    dead = add_shop(services, domain="dead.myshopify.com")
    live = add_shop(services, domain="live.myshopify.com")
    for shop_id in (dead, live):
        store = stores[shop_id] = FakePlatform(store_name=f"Store {shop_id}")
        store.orders = {"1": remote_order("1", [("l1", "MUG", 2)], created=T0)}
        store.stock = [StockRecord("MUG", "default", 0)]
    yield Fleet(services, stores, live, dead)
    services.close()


def test_one_dead_store_never_stops_the_others(fleet: Fleet) -> None:
    fleet.stores[fleet.dead].failures["iter_orders"] = [UNREACHABLE]

    result = fleet.cli("sync")

    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    dead, live = lines
    assert dead.startswith(f"shop {fleet.dead} ") and "FAILED" in dead
    assert "the store could not be reached (the connection was refused or dropped)" in dead
    assert "Last good sync: never" in dead and "connector sync --shop" in dead
    assert "BulkOperationRunQuery" not in result.output  # operator words, not API operation names
    assert live.startswith(f"shop {fleet.live} Store {fleet.live}") and ": ok, " in live and "read 1 orders" in live
    assert "1 of 2 shops failed to sync" in result.output
    with fleet.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == fleet.live)) == 1
    assert fleet.shop(fleet.dead).sync_error == "the store could not be reached (the connection was refused or dropped)"
    assert fleet.shop(fleet.live).sync_ok_at is not None and fleet.shop(fleet.live).sync_failed_at is None


def test_the_scheduler_runs_the_same_sync_and_records_the_same_health(fleet: Fleet) -> None:
    fleet.stores[fleet.dead].failures["iter_orders"] = [AuthError("dead.myshopify.com: token refused", status=401)]
    ensure_all_jobs(fleet.services)
    assert run_due_jobs(fleet.services, kinds=(SYNC,)) == 2
    dead = fleet.shop(fleet.dead)
    assert dead.sync_error == "the store refused the connector's credentials (HTTP 401)"
    assert dead.sync_hint is not None and "reinstall the app" in dead.sync_hint
    with fleet.services.db.session() as session:
        jobs = {job.target: job for job in session.scalars(select(Job).where(Job.kind == SYNC))}
    assert jobs[f"shop:{fleet.dead}"].last_status == "error" and jobs[f"shop:{fleet.live}"].last_status == "ok"
    assert fleet.shop(fleet.live).name == f"Store {fleet.live}"  # the first sync reads the store's own name


def test_a_good_sync_clears_the_failure_and_keeps_the_time(fleet: Fleet) -> None:
    assert run_shop_sync(fleet.services, fleet.dead).status == "ok"
    good = fleet.shop(fleet.dead).sync_ok_at
    fleet.stores[fleet.dead].failures["iter_orders"] = [UNREACHABLE]
    failed = run_shop_sync(fleet.services, fleet.dead)
    assert failed.failed and failed.last_good == good
    assert f"Last good sync: {good:%Y-%m-%d %H:%M} UTC" in failed.line()
    assert run_shop_sync(fleet.services, fleet.dead).status == "ok"
    assert fleet.shop(fleet.dead).sync_failed_at is None and fleet.shop(fleet.dead).sync_error is None


def test_every_dashboard_page_warns_of_a_failing_shop_and_the_list_is_no_all_clear(fleet: Fleet) -> None:
    assert run_shop_sync(fleet.services, fleet.dead).status == "ok"  # a good sync, with nothing backordered yet
    fleet.stores[fleet.dead].orders = {}
    fleet.stores[fleet.dead].failures["iter_orders"] = [UNREACHABLE]
    run_shop_sync(fleet.services, fleet.dead)
    good = fleet.shop(fleet.dead).sync_ok_at
    assert good is not None
    app = create_app(fleet.services)
    app.config["TESTING"] = True
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    with client.session_transaction() as session:
        session["dashboard_shop"] = fleet.dead

    for page in ("/orders", "/skus", "/feeds", "/deliveries", "/reconcile", "/notices"):
        text = client.get(page).get_data(as_text=True)
        assert "the last sync failed" in text, page
        assert "the store could not be reached" in text and f"Last good sync: {good:%Y-%m-%d %H:%M} UTC" in text
        assert "What to do: check that the store is online" in text
    listing = client.get("/orders").get_data(as_text=True)
    assert "No backordered orders." not in listing
    assert f"No backorders as of {good:%Y-%m-%d %H:%M} UTC, the last good sync" in listing
    assert "the latest sync failed" in listing


def test_disable_pauses_sync_reconcile_and_store_writes_until_enabled(fleet: Fleet) -> None:
    run_shop_sync(fleet.services, fleet.live)
    reconcile_and_plan(fleet.services, fleet.live)
    refused = fleet.cli("shops", "disable", str(fleet.live), input="n\n")
    assert refused.exit_code == 1 and fleet.shop(fleet.live).disabled_at is None  # no answer, no change
    assert fleet.cli("shops", "disable", str(fleet.live), input="y\n").exit_code == 0
    assert fleet.shop(fleet.live).disabled_at is not None

    assert run_due_actions(fleet.services) == 0  # its queued writes wait
    assert fleet.stores[fleet.live].calls == []
    skipped = fleet.cli("sync", "--shop", str(fleet.live)).stdout
    assert "skipped, disabled by the operator" in skipped and "connector shops enable" in skipped
    assert "live.myshopify.com" not in fleet.cli("sync").stdout  # not even tried with the others

    assert fleet.cli("shops", "enable", str(fleet.live), "--yes").exit_code == 0
    assert run_due_actions(fleet.services) > 0 and fleet.stores[fleet.live].writes("write_marks") == ["1"]


def test_remove_drops_the_shop_and_all_its_data(fleet: Fleet, tmp_path: Path) -> None:
    run_shop_sync(fleet.services, fleet.live)
    reconcile_and_plan(fleet.services, fleet.live)
    ensure_all_jobs(fleet.services)
    feed = tmp_path / "own.csv"
    feed.write_text("sku,available\nMUG,3\n")
    assert fleet.cli("feeds", "import", str(feed), "--supplier", "own", "--shop", str(fleet.live)).exit_code == 0

    assert fleet.cli("shops", "remove", str(fleet.live)).exit_code == 1  # no confirmation (closed stdin): nothing
    assert fleet.shop(fleet.live).id == fleet.live
    result = fleet.cli("shops", "remove", str(fleet.live), "--yes")

    assert result.exit_code == 0 and "removed shop" in result.stdout
    with fleet.services.db.session() as session:
        assert session.get(Shop, fleet.live) is None
        assert session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == fleet.live)) == 0
        assert session.scalar(select(func.count()).select_from(Action).where(Action.shop_id == fleet.live)) == 0
        assert session.scalar(select(func.count()).select_from(Supplier)) == 0
        assert session.scalar(select(func.count()).select_from(Job).where(Job.target == f"shop:{fleet.live}")) == 0
        assert session.get(Shop, fleet.dead) is not None
    assert "live.myshopify.com" not in fleet.cli("shops", "list").stdout


def test_feeds_remove_asks_then_drops_the_supplier_and_reconciles(fleet: Fleet, tmp_path: Path) -> None:
    feed = tmp_path / "acme.csv"
    feed.write_text("sku,available\nMUG,3\n")
    assert fleet.cli("feeds", "import", str(feed), "--supplier", "acme").exit_code == 0
    assert fleet.cli("feeds", "remove", "acme", input="n\n").exit_code == 1
    assert fleet.cli("feeds", "remove", "acme", "--yes").exit_code == 0
    with fleet.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Supplier)) == 0
    assert fleet.cli("feeds", "remove", "acme", "--yes").exit_code == 2  # no such feed: one line, exit 2


def test_shops_list_shows_health_as_a_table_and_as_json(fleet: Fleet) -> None:
    import json

    fleet.stores[fleet.dead].failures["iter_orders"] = [UNREACHABLE]
    fleet.cli("sync")
    shops = {row["id"]: row for row in json.loads(fleet.cli("shops", "list", "--json").stdout)}
    assert shops[fleet.dead]["state"] == "sync failing" and shops[fleet.live]["state"] == "ok"
    assert shops[fleet.dead]["sync_error"].startswith("the store could not be reached")
    assert "sync failing" in fleet.cli("shops", "list").stdout


def test_a_sync_that_fails_half_way_keeps_what_it_stored(fleet: Fleet) -> None:
    fleet.stores[fleet.live].orders = {str(n): remote_order(str(n), [("l", "MUG", 1)], created=T0 + timedelta(minutes=n))
                                       for n in range(3)}
    fleet.stores[fleet.live].failures["iter_stock"] = [UNREACHABLE]
    result = run_shop_sync(fleet.services, fleet.live)
    assert result.failed
    with fleet.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == fleet.live)) == 3
