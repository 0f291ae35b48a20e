"""Several worker processes on one database: no delivery applied twice, no notice sent twice, even under SIGKILL."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.pipeline.intake import store_delivery
from connector.pipeline.outbox import reconcile_and_plan
from connector.platforms.base import StockRecord
from connector.store.models import Action, InboxItem, Order, OrderLine
from connector.store.repo import store_stock, upsert_order
from tests.fakes import FakePlatform, FileLogChannel, remote_order
from tests.pipeline.conftest import T0, add_shop, make_services

SCRIPT = Path(__file__).with_name("worker_process.py")
KILLS = 8


def _spawn(database_url: str, data_dir: Path, sent_log: Path, event_log: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), database_url, str(data_dir), str(sent_log), str(event_log), *extra],
        stdout=subprocess.PIPE, text=True,
    )


def test_workers_sharing_one_inbox_apply_each_delivery_once(postgres_url: str, tmp_path: Path) -> None:
    services = make_services(postgres_url, tmp_path / "data", FakePlatform())
    shop_id = add_shop(services)
    with services.db.session() as session:
        store_stock(session, shop_id, [StockRecord(f"SKU-{n}", "default", 2 * n) for n in range(7)], complete=True)
    deliveries: list[tuple[str, dict]] = []
    for order_id in range(1, 101):
        for step, qty in ((0, 1), (5, 2), (10, 3)):
            body = {
                "id": order_id, "name": f"#{order_id}", "created_at": T0.isoformat(),
                "updated_at": (T0 + timedelta(minutes=step)).isoformat(),
                "email": f"c{order_id}@example.org", "customer": {"id": order_id, "first_name": "C"},
                "line_items": [{"id": order_id * 10, "sku": f"SKU-{order_id % 7}", "quantity": qty}],
            }
            deliveries.append((f"d-{order_id}-{step}", body))
    random.Random(7).shuffle(deliveries)
    with services.db.session() as session:
        for delivery_id, body in deliveries:
            store_delivery(session, platform="shopify", delivery_id=delivery_id, topic="orders/updated",
                           shop_domain="test.myshopify.com", shop_id=shop_id, headers={}, body=json.dumps(body).encode())

    sent_log = tmp_path / "sent.jsonl"
    workers = [
        _spawn(postgres_url, tmp_path / "data", sent_log, tmp_path / f"events-{n}.log") for n in range(4)
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0

    processed = Counter()
    per_worker = []
    for n in range(4):
        found = re.findall(r"delivery (\d+) processed", (tmp_path / f"events-{n}.log").read_text())
        per_worker.append(len(found))
        processed.update(found)
    assert len(processed) == 300
    assert set(processed.values()) == {1}
    assert sum(1 for count in per_worker if count) >= 2  # the work really was shared
    with services.db.session() as session:
        assert {(i.status, i.attempts) for i in session.scalars(select(InboxItem))} == {("done", 1)}
        orders = list(session.scalars(select(Order)))
        assert len(orders) == 100
        assert {o.updated_at for o in orders} == {T0 + timedelta(minutes=10)}
        assert set(session.scalars(select(OrderLine.quantity))) == {3}
        notices = list(session.scalars(select(Action).where(Action.kind == "notify")))
        assert notices and {a.status for a in notices} == {"sent"}
    refs = FileLogChannel(sent_log).sent_refs()
    assert len(refs) == len(notices) == len(set(refs))
    services.close()


# Each kill starts a worker process (about a second); `make soak` kills five times as often.
@pytest.mark.parametrize("kills", [KILLS, pytest.param(5 * KILLS, marks=pytest.mark.soak, id="soak")])
def test_killing_workers_mid_send_never_sends_a_notice_twice(database_url: str, tmp_path: Path, kills: int) -> None:
    data_dir = tmp_path / "data"
    services = make_services(database_url, data_dir, FakePlatform())
    shop_id = add_shop(services)
    with services.db.session() as session:
        for order_id in range(1, 41):
            upsert_order(session, shop_id, remote_order(str(order_id), [(f"L{order_id}", "SKU-A", 1)], created=T0,
                                                       email=f"c{order_id}@example.org"))
        store_stock(session, shop_id, [StockRecord("SKU-A", "default", 0)], complete=True)
    reconcile_and_plan(services, shop_id)

    sent_log = tmp_path / "sent.jsonl"
    rng = random.Random(20260301)
    killed = 0
    for attempt in range(kills):
        worker = _spawn(database_url, data_dir, sent_log, tmp_path / f"events-{attempt}.log", "--slow-send")
        assert worker.stdout is not None
        worker.stdout.readline()  # "ready": imports done, the database about to be opened
        # Wait for the first send rather than a fixed time: on a loaded machine start-up can outlast any guess.
        # An empty line means the worker found nothing left to send and ended by itself.
        if worker.stdout.readline():
            time.sleep(rng.uniform(0.0, 0.3))
        worker.kill()
        worker.wait()
        killed += 1
    sent_by_killed_workers = len(FileLogChannel(sent_log).sent_refs())
    final = _spawn(database_url, data_dir, sent_log, tmp_path / "events-final.log")
    assert final.wait(timeout=120) == 0

    refs = FileLogChannel(sent_log).sent_refs()
    assert len(refs) == len(set(refs)), "a notice was sent twice"
    with services.db.session() as session:
        notices = list(session.scalars(select(Action).where(Action.kind == "notify")))
        others = list(session.scalars(select(Action).where(Action.kind != "notify")))
    assert len(notices) == 40
    expected_ref = {a.id: f"{shop_id}-{a.order_id}-{a.payload['ref']}" for a in notices}
    sent = [a for a in notices if a.status == "sent"]
    stuck = [a for a in notices if a.status == "sending"]
    assert len(sent) + len(stuck) == 40, "a notice was lost without being shown to the operator"
    assert all(expected_ref[a.id] in refs for a in sent)
    assert set(refs) <= set(expected_ref.values())
    assert killed == kills
    assert sent_by_killed_workers > 0  # the kills landed while notices were going out
    assert {a.status for a in others} <= {"done", "superseded"}
    services.close()
