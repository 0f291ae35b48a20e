"""Issue 14, finding 1: the brake on notice storms.

A supplier feed that moves many waiting customers' delivery dates at once holds the whole reconcile:
no notice, note, hold or mark is queued, and the merchant sees what changed and why (which feed,
which SKUs) with Send and Discard. Below the limits, reconciles go through as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from connector.cli import cli
from connector.feeds.importer import import_feed
from connector.pipeline.brake import discard_held, send_held
from connector.pipeline.outbox import reconcile_and_queue
from connector.pipeline.scheduler import RECONCILE, run_due_jobs, mark_reconcile
from connector.services import Services
from connector.store.models import Action, HeldReconcile, OrderDecision
from connector.web.app import create_app
from tests.fakes import FakePlatform, remote_order
from tests.pipeline.conftest import add_shop, make_services

PASSWORD = "brake test password"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Storm:
    services: Services
    shop_id: int
    feeds: Path
    today: date

    def feed(self, mug_restock_days: int, name: str = "acme.csv") -> str:
        rows = [f"MUG,0,{(self.today + timedelta(days=mug_restock_days)).isoformat()},500,2"]
        rows += [f"OTHER-{n},5,,," for n in range(9)]
        path = self.feeds / name
        path.write_text("sku,available,restock_date,restock_qty,lead_time_days\n" + "\n".join(rows) + "\n")
        return str(path)

    def import_feed(self, mug_restock_days: int) -> None:
        with self.services.db.session() as session:
            result = import_feed(session, self.feed(mug_restock_days, f"acme-{mug_restock_days}.csv"), "acme")
            assert result.status == "imported", result

    def reconcile(self) -> tuple[HeldReconcile | None, int]:
        result, queued = reconcile_and_queue(self.services, self.shop_id, as_of=self.today)
        assert result is not None
        return result.held, queued

    def actions(self, kind: str | None = None) -> int:
        with self.services.db.session() as session:
            statement = select(func.count()).select_from(Action)
            if kind:
                statement = statement.where(Action.kind == kind)
            return int(session.scalar(statement) or 0)


@pytest.fixture
def storm(database_url: str, tmp_path: Path) -> Iterator[Storm]:
    """A shop with 12 orders waiting for mugs, each already told its delivery date."""
    platform = FakePlatform()
    services = make_services(database_url, tmp_path / "data", platform, admin_password=PASSWORD)
    shop_id = add_shop(services)
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    world = Storm(services, shop_id, feeds, datetime.now(UTC).date())
    from connector.store.repo import store_stock, upsert_order
    from connector.platforms.base import StockRecord

    with services.db.session() as session:
        store_stock(session, shop_id, [StockRecord("MUG", "default", 0)], complete=True)
        for n in range(12):
            upsert_order(session, shop_id, remote_order(str(100 + n), [(f"l{n}", "MUG", 1)],
                                                        created=T0 + timedelta(minutes=n)))
    world.import_feed(5)
    held, queued = world.reconcile()
    assert held is None and queued > 0  # 12 first "backordered" notices are not a storm: nobody waited yet
    yield world
    services.close()


def test_a_feed_that_moves_every_waiting_customer_is_held_whole(storm: Storm) -> None:
    before = storm.actions()
    with storm.services.db.session() as session:
        pushed = {d.order_id: d.pushed_fingerprint for d in session.scalars(select(OrderDecision))}

    storm.import_feed(40)  # the supplier's file now says the mugs come five weeks later
    held, queued = storm.reconcile()

    assert held is not None and queued == 0
    assert storm.actions() == before  # no notice, note, mark or hold was queued
    with storm.services.db.session() as session:
        assert {d.order_id: d.pushed_fingerprint for d in session.scalars(select(OrderDecision))} == pushed
        row = session.get(HeldReconcile, held.id)
        assert row is not None and row.status == "held" and row.notices == 12 and row.waiting == 12
        summary = row.summary
    assert "12 of the 12 customers waiting" in summary["why"]
    assert [feed["supplier"] for feed in summary["feeds"]] == ["acme"]
    [mug] = summary["skus"]
    assert mug["sku"] == "MUG" and mug["orders"] == 12
    assert any("supplier acme: restock" in text for text in mug["before"])
    assert mug["before_eta"] != mug["after_eta"]
    assert summary["notices"] == {"eta_changed": 12}
    assert summary["writes"]["note"] == 12

    # The next reconcile finds the same changes: still held, no second record, still nothing queued.
    again, queued = storm.reconcile()
    assert again is not None and again.id == held.id and queued == 0


def test_send_queues_exactly_the_held_changes(storm: Storm) -> None:
    storm.import_feed(40)
    held, _ = storm.reconcile()
    assert held is not None
    outcome = send_held(storm.services, held.id, by="test")
    assert outcome.sent and outcome.queued > 0
    with storm.services.db.session() as session:
        notices = [a.payload["notice"] for a in session.scalars(select(Action).where(Action.kind == "notify"))]
        assert notices.count("eta_changed") == 12
        assert session.get(HeldReconcile, held.id).status == "sent"  # type: ignore[union-attr]
    assert storm.reconcile() == (None, 0)  # all pushed now


def test_discard_drops_the_changes_and_they_are_not_held_again(storm: Storm) -> None:
    storm.import_feed(40)
    held, _ = storm.reconcile()
    assert held is not None
    before = storm.actions()
    discard_held(storm.services, held.id, by="test")

    again, queued = storm.reconcile()
    assert queued == 0 and storm.actions() == before
    assert again is not None and again.id == held.id and again.status == "discarded"
    with storm.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(HeldReconcile)) == 1

    # The supplier sends the right file again: the store already shows that, so nothing is to be told.
    storm.import_feed(5)
    assert storm.reconcile() == (None, 0)


def test_a_few_changed_dates_are_no_storm(storm: Storm, database_url: str) -> None:
    with storm.services.db.session() as session:
        from connector.store.repo import upsert_order

        for n in range(3):  # three more orders wait for the mugs from the same batch
            upsert_order(session, storm.shop_id, remote_order(str(200 + n), [(f"m{n}", "MUG", 1)],
                                                              created=T0 + timedelta(hours=1, minutes=n)))
    held, queued = storm.reconcile()
    assert held is None and queued > 0


def test_the_scheduled_reconcile_reports_held(storm: Storm) -> None:
    storm.import_feed(40)
    with storm.services.db.session() as session:
        mark_reconcile(session, storm.shop_id)
    run_due_jobs(storm.services, kinds=(RECONCILE,))
    with storm.services.db.session() as session:
        from connector.store.models import Job

        job = session.scalar(select(Job).where(Job.kind == RECONCILE))
        assert job is not None and job.last_status == "held"


def test_the_cli_says_held_and_lists_and_sends_it(storm: Storm) -> None:
    storm.import_feed(40)
    runner = CliRunner()
    result = runner.invoke(cli, ["reconcile"], obj=storm.services, catch_exceptions=False)
    assert result.exit_code == 0 and "HELD by the notice brake" in result.stdout
    listing = runner.invoke(cli, ["held", "list"], obj=storm.services, catch_exceptions=False).stdout
    assert "acme" in listing and "MUG" in listing and "12 of the 12" in listing
    held_id = int(listing.split("\t")[0])
    refused = runner.invoke(cli, ["held", "send", str(held_id)], obj=storm.services, input="n\n")
    assert refused.exit_code == 1 and storm.actions("notify") == 12  # the first notices only
    sent = runner.invoke(cli, ["held", "send", str(held_id), "--yes"], obj=storm.services, catch_exceptions=False)
    assert sent.exit_code == 0 and "sent" in sent.stdout and storm.actions("notify") == 24


def test_the_dashboard_shows_what_changed_with_send_and_discard(storm: Storm) -> None:
    storm.import_feed(40)
    held, _ = storm.reconcile()
    assert held is not None
    app = create_app(storm.services)
    app.config["TESTING"] = True
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302

    for page in ("/orders", "/feeds", "/skus", "/deliveries"):
        text = client.get(page).get_data(as_text=True)
        assert "a reconcile is held by the notice brake" in text and f"/held/{held.id}" in text, page
    detail = client.get(f"/held/{held.id}").get_data(as_text=True)
    assert "acme" in detail and "MUG" in detail and "supplier acme: restock" in detail
    assert "Send: write the changes and send 12 notices" in detail and "Discard" in detail

    token = CSRF.search(detail).group(1)  # type: ignore[union-attr]
    response = client.post(f"/held/{held.id}/send", data={"csrf_token": token})
    assert response.status_code == 302
    assert storm.actions("notify") == 24
    assert "a reconcile is held" not in client.get("/orders").get_data(as_text=True)
