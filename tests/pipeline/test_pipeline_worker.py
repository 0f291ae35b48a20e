"""The worker loop, the stored schedule, the single-worker guard on SQLite and the operator commands."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from connector.commands.deliveries import actions_group, deliveries_group
from connector.commands.worker import worker_command
from connector.errors import ConfigError, TransportError
from connector.pipeline.intake import store_delivery
from connector.pipeline.scheduler import ensure_all_jobs, run_due_jobs
from connector.pipeline.worker import run_worker, single_worker_guard
from connector.platforms.base import BACKORDER_TAG, StockRecord
from connector.store.models import Action, InboxItem, Job, Order, Shop, Supplier, utcnow
from tests.fakes import remote_order
from tests.pipeline.conftest import T0, World


def _store_has_a_backorder(world: World) -> None:
    world.platform.orders["1"] = remote_order("1", [("L1", "SKU-A", 2)], created=T0)
    world.platform.stock = [StockRecord("SKU-A", "default", 0, item_ref="i-1")]


def test_once_syncs_reconciles_and_writes_back(world: World) -> None:
    _store_has_a_backorder(world)

    stats = run_worker(world.services, once=True)

    assert stats.jobs >= 2 and stats.actions == 5
    assert world.platform.tags["1"] == {BACKORDER_TAG}
    assert world.platform.marks["1"].status == "backordered"
    assert len(list((world.data_dir / "outbox").glob("*.eml"))) == 1
    again = run_worker(world.services, once=True)
    assert again.actions == 0 and again.jobs == 0
    with world.db.session() as session:
        kinds = {job.kind for job in session.scalars(select(Job))}
    assert kinds == {"sync", "full_sync", "reconcile"}


def test_the_schedule_is_stored_and_a_restarted_worker_carries_on(world: World) -> None:
    _store_has_a_backorder(world)
    run_worker(world.services, once=True)
    with world.db.session() as session:
        sync = session.scalar(select(Job).where(Job.kind == "sync"))
        assert sync.last_status == "ok" and sync.next_run_at > utcnow() + timedelta(minutes=9)

    later = utcnow() + timedelta(minutes=11)
    assert run_due_jobs(world.services, later, kinds=("sync",)) == 1
    assert run_due_jobs(world.services, later, kinds=("sync",)) == 0


def test_a_failed_job_records_its_error_and_comes_back_soon(world: World) -> None:
    world.platform.failures["iter_orders"] = [TransportError("store unreachable")]
    with world.db.session() as session:
        session.add(Supplier(scope="all", name="remote", source="http://127.0.0.1:9/feed.csv", column_map={},
                             rejected=[], row_count=0))
    ensure_all_jobs(world.services)

    run_due_jobs(world.services, kinds=("sync",))

    with world.db.session() as session:
        sync = session.scalar(select(Job).where(Job.kind == "sync"))
        # In the operator's words, on the job and on the shop (the dashboard's banner reads the shop).
        assert sync.last_status == "error" and "the store could not be reached" in (sync.last_error or "")
        shop = session.get(Shop, world.shop_id)
        assert shop.sync_failed_at is not None and shop.sync_error == "the store could not be reached (no answer)"
        assert sync.locked_until is None and sync.next_run_at <= utcnow() + timedelta(minutes=5)
        assert session.scalar(select(Job.target).where(Job.kind == "feed_refresh")).startswith("supplier:")


def test_stop_event_ends_the_loop(world: World) -> None:
    stop = threading.Event()
    stop.set()
    stats = run_worker(world.services, once=False, stop_event=stop)
    assert stats.passes == 0


def test_a_second_sqlite_worker_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/connector.db"
    with single_worker_guard(url) as is_sqlite:
        assert is_sqlite
        with pytest.raises(ConfigError, match="another worker is already running"):
            with single_worker_guard(url):
                pass
    with single_worker_guard(url):  # released when the first one stopped
        pass


def test_postgres_workers_need_no_guard() -> None:
    with single_worker_guard("postgresql+psycopg://postgres@127.0.0.1/x") as is_sqlite:
        assert not is_sqlite


def test_deliveries_commands_list_and_replay(world: World) -> None:
    with world.db.session() as session:
        store_delivery(session, platform="shopify", delivery_id="d-1", topic="orders/create",
                       shop_domain="test.myshopify.com", shop_id=world.shop_id, headers={}, body=b"{broken")
    run_worker(world.services, once=True, schedule=False)
    runner = CliRunner()

    listed = runner.invoke(deliveries_group, ["list", "--dead"], obj=world.services)
    assert listed.exit_code == 0 and "orders/create" in listed.output and "dead" in listed.output

    fixed = {"id": 1, "created_at": T0.isoformat(), "line_items": []}
    with world.db.session() as session:
        session.execute(update(InboxItem).values(body=json.dumps(fixed).encode()))
    replayed = runner.invoke(deliveries_group, ["replay", "--all-dead"], obj=world.services)
    assert replayed.exit_code == 0 and "queued 1" in replayed.output
    run_worker(world.services, once=True, schedule=False)
    with world.db.session() as session:
        assert session.scalar(select(InboxItem.status)) == "done"
        assert session.scalar(select(Order.platform_id)) == "1"

    assert runner.invoke(deliveries_group, ["replay"], obj=world.services).exit_code == 2
    missing = runner.invoke(deliveries_group, ["replay", "999"], obj=world.services)
    assert missing.exit_code == 1 and "no delivery 999" in missing.output


def test_actions_commands_list_stuck_and_resolve(world: World) -> None:
    _store_has_a_backorder(world)
    run_worker(world.services, once=True)
    with world.db.session() as session:
        notice_id = session.scalar(select(Action.id).where(Action.kind == "notify"))
        session.execute(update(Action).where(Action.id == notice_id).values(status="sending", started_at=utcnow()))
    runner = CliRunner()

    stuck = runner.invoke(actions_group, ["list", "--stuck"], obj=world.services)
    assert stuck.exit_code == 0 and f"{notice_id}\t" in stuck.output and "sending since" in stuck.output

    assert runner.invoke(actions_group, ["resolve", str(notice_id)], obj=world.services).exit_code == 2
    resolved = runner.invoke(actions_group, ["resolve", str(notice_id), "--sent"], obj=world.services)
    assert resolved.exit_code == 0 and "now sent" in resolved.output
    assert "no stuck notices" in runner.invoke(actions_group, ["list", "--stuck"], obj=world.services).output
    refused = runner.invoke(actions_group, ["resolve", str(notice_id), "--retry"], obj=world.services)
    assert refused.exit_code != 0 and "only stuck" in str(refused.exception or refused.output)


def test_worker_command_once(world: World) -> None:
    _store_has_a_backorder(world)
    result = CliRunner().invoke(worker_command, ["--once"], obj=world.services)
    assert result.exit_code == 0, result.output
    assert "settled 5 actions" in result.output


def test_a_failing_pass_does_not_end_a_long_running_worker(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.pipeline import worker as worker_module

    stop = threading.Event()
    calls = {"n": 0}

    def flaky_pass(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("database connection lost")
        stop.set()
        return 0

    monkeypatch.setattr(worker_module, "run_pass", flaky_pass)
    world.services.settings.worker_poll_seconds = 0.01

    run_worker(world.services, once=False, stop_event=stop, schedule=False)

    assert calls["n"] == 2
