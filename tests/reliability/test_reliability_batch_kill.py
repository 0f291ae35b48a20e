"""Killing a worker in the middle of a batched Shopify mutation: after a restart the store shows every
write once, no notice went twice and no action was lost."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
from flask import Response, request
from sqlalchemy import select

from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.sync import sync_shop
from connector.platforms.base import HOLD_HANDLE
from connector.platforms.shopify.notes import BLOCK_START
from connector.services import Services
from connector.store.models import Action, Shop
from reliability_support import (
    SHOPIFY_API_SECRET,
    SHOPIFY_TOKEN,
    Store,
    install_shop,
    quick_platform,
    shopify_seed,
)
from sandbox.common import FaultPlan, ServerThread
from sandbox.shopify import ShopifyState
from sandbox.shopify import create_app as create_shopify_sandbox
from tests.conftest import make_settings
from tests.fakes import FileLogChannel

WORKER = Path(__file__).with_name("batch_worker.py")
KILLS = 3


def _plan_everything(services: Services, shop_id: int) -> None:
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
    platform = services.platform_for(shop)
    try:
        sync_shop(services.db, shop_id, platform, full=True)
    finally:
        platform.close()
    reconcile_and_plan(services, shop_id)


def _store(orders: int) -> Store:
    app = create_shopify_sandbox(ShopifyState.from_seed(shopify_seed(orders)), api_secret=SHOPIFY_API_SECRET,
                                 access_token=SHOPIFY_TOKEN, faults=FaultPlan(seed=1), restore_rate=1e6)
    return Store("shopify", ServerThread(app).start(), FaultPlan(seed=1))


def _spawn(database_url: str, data_dir: Path, sent_log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WORKER), database_url, str(data_dir), str(sent_log)],
                            stdout=subprocess.PIPE, text=True)


def test_a_worker_killed_mid_batched_mutation_leaves_no_double_write_and_no_lost_action(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/connector.db"
    services = Services(make_settings(database_url, tmp_path / "data"), platform_factory=quick_platform, migrate=True)
    store = _store(orders=36)
    batched = threading.Event()

    @store.server.app.after_request
    def answer_batched_writes_slowly(response: Response) -> Response:
        # After the mutations ran: a kill now leaves writes made whose answer never arrived.
        if b"BatchedWrites" in (request.get_data() or b""):
            batched.set()
            time.sleep(0.05)
        return response

    try:
        shop_id = install_shop(services, store)
        _plan_everything(services, shop_id)
        sent_log = tmp_path / "sent.jsonl"
        rng = random.Random(16)
        kills = 0
        for _ in range(KILLS):
            batched.clear()
            worker = _spawn(database_url, tmp_path / "data", sent_log)
            assert worker.stdout is not None
            worker.stdout.readline()  # "ready"
            while worker.poll() is None and not batched.wait(timeout=0.05):
                pass  # until a batched mutation is in flight, or the worker finished everything
            if worker.poll() is not None:
                break
            time.sleep(rng.uniform(0.0, 0.05))
            worker.kill()
            worker.wait()
            kills += 1
        final = _spawn(database_url, tmp_path / "data", sent_log)
        assert final.wait(timeout=120) == 0

        with services.db.session() as session:
            actions = list(session.scalars(select(Action)))
        notices = [a for a in actions if a.kind == "notify"]
        writes = [a for a in actions if a.kind != "notify"]
        assert kills >= 1  # the kills landed while a batched mutation was in flight
        assert writes and {a.status for a in writes} <= {"done", "superseded"}, "a store write was lost"
        refs = FileLogChannel(sent_log).sent_refs()
        assert len(refs) == len(set(refs)), "a notice was sent twice"
        assert notices and all(a.status in ("sent", "sending") for a in notices), "a notice was lost unseen"

        orders: list[dict[str, Any]] = requests.get(f"{store.url}/_sandbox/orders", timeout=10).json()
        backordered = [o for o in orders if "backordered" in o["tags"]]
        assert backordered
        for order in orders:
            assert [tag.lower() for tag in order["tags"]].count("backordered") <= 1
            ours = [hold for hold in order["holds"] if hold["handle"] == HOLD_HANDLE]
            assert len(ours) <= 1, f"{order['name']} was held twice"
            assert (order["note"] or "").count(BLOCK_START) <= 1, f"{order['name']} got its note block twice"
        assert all(any(h["handle"] == HOLD_HANDLE for h in o["holds"]) for o in backordered)
    finally:
        store.server.stop()
        services.close()
