"""Throttled and failing stores: `connector sync` paces itself, waits out THROTTLED answers, 429s and 5xx
answers, and still stores every order of the example stores (several pages each)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from sandbox.common import FaultPlan, ServerThread
from connector.services import Services
from connector.store.models import InventoryLevel, Order
from e2e_support import SHOPIFY_SECRET, WriteRecorder, connector

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sandbox"
SHOPIFY_TOKEN = "shpat_throttled_e2e"


def stored_orders(services: Services, shop_id: int) -> set[str]:
    with services.db.session() as session:
        return set(session.scalars(select(Order.platform_id).where(Order.shop_id == shop_id)))


def stock_rows(services: Services, shop_id: int) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(InventoryLevel)
                                  .where(InventoryLevel.shop_id == shop_id)) or 0)


def retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()
            or "retry" in record.getMessage().lower()]


def test_shopify_sync_outlasts_a_small_bucket_and_throttling(
    sqlite_services: Services, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    from sandbox.shopify import run, sandbox_of

    caplog.set_level(logging.INFO)
    # The smallest bucket Shopify gives (no query may cost more), refilled fast so the test stays quick,
    # and a store that drains it at random now and then.
    faults = FaultPlan(throttle_rate=0.3, seed=7)
    server: ServerThread = run(0, EXAMPLES / "shopify_seed.json", api_secret=SHOPIFY_SECRET, access_token=SHOPIFY_TOKEN,
                               bucket_size=1000, restore_rate=1000, faults=faults)
    request.addfinalizer(server.stop)
    recorder = WriteRecorder(server.app, "shopify")
    seed = json.loads((EXAMPLES / "shopify_seed.json").read_text())
    output = connector(sqlite_services.settings, "shops", "add", "shopify", "--domain", seed["shop"],
                       "--token", SHOPIFY_TOKEN, "--api-url", server.url)
    shop_id = int(output.split()[1].rstrip(":"))

    summary = connector(sqlite_services.settings, "sync", "--shop", str(shop_id))

    assert f"read {len(seed['orders'])} orders" in summary
    assert stored_orders(sqlite_services, shop_id) == {str(order["id"]) for order in seed["orders"]}
    assert stock_rows(sqlite_services, shop_id) > 0
    assert any("THROTTLED" in line or "throttled" in line for line in retries(caplog))
    # A sync reads (a first one in bulk) and puts the shop's webhooks back, as the worker's sync does.
    assert set(recorder.take()) <= {"bulkOperationRunQuery", "webhookSubscriptionCreate"}
    assert sandbox_of(server.app).bucket.status()["maximumAvailable"] == 1000


def test_woocommerce_sync_outlasts_429s_and_server_errors(
    sqlite_services: Services, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    from sandbox.woocommerce import run, sandbox_of

    caplog.set_level(logging.INFO)
    server: ServerThread = run(0, EXAMPLES / "woocommerce_seed.json")
    request.addfinalizer(server.stop)
    seed = json.loads((EXAMPLES / "woocommerce_seed.json").read_text())
    key = seed["api_keys"][0]
    output = connector(sqlite_services.settings, "shops", "add", "woocommerce", "--url", server.url,
                       "--key", key["consumer_key"], "--secret", key["consumer_secret"])
    shop_id = int(output.split()[1].rstrip(":"))
    answer = requests.put(f"{server.url}/_sandbox/faults", json={"error_rate": 0.15, "throttle_rate": 0.15, "seed": 5},
                          timeout=10)
    assert answer.status_code == 200

    summary = connector(sqlite_services.settings, "sync", "--shop", str(shop_id))

    assert f"read {len(seed['orders'])} orders" in summary
    assert stored_orders(sqlite_services, shop_id) == {str(order["id"]) for order in seed["orders"]}
    assert stock_rows(sqlite_services, shop_id) > 0
    assert len(retries(caplog)) >= 2  # the faults happened, and were outlasted
    assert sandbox_of(server.app).faults.error_rate == 0.15
