"""Webhook-driven updates: after installing through the real install flows, an order placed in a store
reaches the connector by signed webhook and is stored, reconciled and pushed back in one worker pass,
with no polling sync."""

from __future__ import annotations

from pathlib import Path
from threading import Event

import pytest
import requests
from sqlalchemy import select

from conftest import Store, e2e_services, start_shopify, start_woocommerce
from connector.pipeline.worker import WorkerStats, run_pass
from connector.sandbox.common import ServerThread
from connector.services import Services
from connector.store.models import InboxItem, Job, Order, OrderDecision, SyncCursor
from connector.web.app import create_app
from e2e_support import (
    SHOPIFY_DOMAIN,
    AppSlot,
    browse,
    day,
    import_supplier_feed,
    shopify_feed_rows,
    wait_for_installed,
    woocommerce_feed_rows,
    write_feed,
)


@pytest.fixture
def web(tmp_path: Path, sqlite_url: str, request: pytest.FixtureRequest) -> tuple[ServerThread, Services]:
    """The connector's web app on a loopback port, its settings naming that port as APP_URL."""
    slot = AppSlot()
    server = ServerThread(slot).start()
    request.addfinalizer(server.stop)
    services = e2e_services(sqlite_url, tmp_path, app_url=server.url)
    request.addfinalizer(services.close)
    slot.app = create_app(services)
    return server, services


def one_worker_pass(services: Services) -> WorkerStats:
    stats = WorkerStats()
    run_pass(services, worker_id="e2e", stop=Event(), stats=stats)
    return stats


def stored_by_delivery(services: Services, shop_id: int, platform_id: str, topic: str) -> OrderDecision:
    """The order's decision, after checking that its delivery, not a sync, stored the order."""
    with services.db.session() as session:
        [delivery] = session.scalars(select(InboxItem).where(InboxItem.topic == topic))
        assert (delivery.status, delivery.note) == ("done", None)  # a note would say "older than stored"
        order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.platform_id == platform_id))
        assert order is not None
        # No polling: nothing ever synced this shop's orders (the stock webhook's refresh is still waiting).
        assert session.scalar(select(SyncCursor).where(SyncCursor.shop_id == shop_id)) is None
        assert all(job.last_run_at is None for job in session.scalars(select(Job).where(Job.kind == "sync")))
        assert session.scalar(select(Order.id).where(Order.shop_id == shop_id, Order.platform_id != platform_id)) is None
        decision = session.scalar(select(OrderDecision).where(OrderDecision.order_id == order.id))
        assert decision is not None
        session.expunge(decision)
        return decision


def test_shopify_order_placed_after_install_arrives_by_webhook(
    web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from connector.sandbox.shopify import sandbox_of

    server, services = web
    store: Store = start_shopify(tmp_path, request)
    browse(f"{server.url}/auth/shopify", {"shop": SHOPIFY_DOMAIN, "api_url": store.url})
    shop_id = wait_for_installed(services, "shopify")
    import_supplier_feed(services, write_feed(tmp_path / "feed.csv", shopify_feed_rows()), "shirts-and-co", shop_id)
    store.recorder.take()  # the install's subscriptions

    placed = requests.post(f"{store.url}/_sandbox/orders", timeout=10, json={
        "customer": {"firstName": "Noor", "email": "noor@example.com"},
        "line_items": [{"sku": "E2E-SHIRT", "quantity": 1}]}).json()
    assert sandbox_of(store.server.app).webhooks.flush(10)
    stats = one_worker_pass(services)

    with services.db.session() as session:
        print([(j.kind, j.target, j.last_status, j.last_error, j.next_run_at) for j in session.scalars(select(Job))])
        print([(i.topic, i.status, i.note) for i in session.scalars(select(InboxItem))])
        print(session.scalars(select(OrderDecision)).all())
    assert stats.deliveries >= 2 and stats.actions >= 4  # orders/create and the stock change; the writes
    decision = stored_by_delivery(services, shop_id, str(placed["legacy_id"]), "orders/create")
    assert (decision.status, decision.eta) == ("backordered", day(13))
    marks = requests.get(f"{store.url}/_sandbox/orders/{placed['legacy_id']}", timeout=10).json()
    assert marks["tags"] == ["backordered"] and marks["metafields"]["backorder.eta"]["value"] == day(13).isoformat()
    assert [hold["reason"] for hold in marks["holds"]] == ["INVENTORY_OUT_OF_STOCK"]
    assert len(list(services.settings.outbox_dir.glob("*.eml"))) == 1
    assert sorted(set(store.recorder.take())) == ["fulfillmentOrderHold", "metafieldsSet", "orderUpdate", "tagsAdd"]


def test_woocommerce_order_placed_after_install_arrives_by_webhook(
    web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from connector.sandbox.woocommerce import sandbox_of

    server, services = web
    store: Store = start_woocommerce(tmp_path, request)
    browse(f"{server.url}/auth/woocommerce", {"store_url": store.url})
    shop_id = wait_for_installed(services, "woocommerce")
    import_supplier_feed(services, write_feed(tmp_path / "feed.csv", woocommerce_feed_rows()), "kitchen", shop_id)
    hooks = requests.get(f"{store.url}/_sandbox/webhooks", timeout=10).json()
    assert {hook["topic"] for hook in hooks} == {"order.created", "order.updated", "order.deleted", "product.updated"}
    assert {hook["last_ping_status"] for hook in hooks} == {200}

    placed = requests.post(f"{store.url}/_sandbox/orders", timeout=10, json={
        "status": "processing", "billing": {"first_name": "Lea", "email": "lea.new@example.com"},
        "line_items": [{"sku": "WE2E-KETTLE", "quantity": 1}]}).json()
    assert sandbox_of(store.server.app).dispatcher.flush(10)
    one_worker_pass(services)

    decision = stored_by_delivery(services, shop_id, str(placed["id"]), "order.created")
    assert (decision.status, decision.eta) == ("backordered", day(11))
    order = requests.get(f"{store.url}/_sandbox/orders/{placed['id']}", timeout=10).json()
    meta = {entry["key"]: entry["value"] for entry in order["meta_data"]}
    assert (meta["_backorder_status"], meta["_backorder_eta"]) == ("backordered", day(11).isoformat())
    assert [email["to"] for email in order["emails"]] == ["lea.new@example.com"]
