"""Webhook-driven updates: after installing through the real install flows and a first sync, an order
placed in a store reaches the connector by signed webhook and is stored by that delivery, reconciled and
pushed back without a polling sync (on Shopify in a single worker pass)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from threading import Event

import pytest
import requests
from sqlalchemy import select

from connector.pipeline.worker import WorkerStats, run_pass
from sandbox.common import ServerThread
from connector.services import Services
from connector.store.models import InboxItem, Order, OrderDecision, SyncCursor
from e2e_support import (
    SHOPIFY_DOMAIN,
    Store,
    browse,
    connect_woocommerce,
    day,
    drain,
    eml_notices,
    run_cycle,
    shopify_feed_rows,
    start_shopify,
    start_woocommerce,
    wait_for_installed,
    woocommerce_feed_rows,
    write_feed,
)


def one_worker_pass(services: Services) -> WorkerStats:
    stats = WorkerStats()
    run_pass(services, worker_id="e2e", stop=Event(), stats=stats)
    return stats


def last_sync(services: Services, shop_id: int) -> datetime | None:
    with services.db.session() as session:
        return session.scalar(select(SyncCursor.last_run_at).where(SyncCursor.shop_id == shop_id))


def stored_by_delivery(services: Services, shop_id: int, platform_id: str, topic: str) -> OrderDecision:
    """The order's decision, after checking that its own delivery stored the order."""
    with services.db.session() as session:
        delivery = session.scalars(select(InboxItem).where(InboxItem.topic == topic)).one()
        # Had a sync stored the order first, the delivery would be noted "older than the stored order".
        assert (delivery.status, delivery.note) == ("done", None)
        order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.platform_id == platform_id))
        assert order is not None
        decision = session.scalar(select(OrderDecision).where(OrderDecision.order_id == order.id))
        assert decision is not None
        session.expunge(decision)
        return decision


def test_shopify_order_placed_after_install_arrives_by_webhook(
    web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from sandbox.shopify import sandbox_of

    server, services = web
    store: Store = start_shopify(tmp_path, request)
    browse(f"{server.url}/auth/shopify", {"shop": SHOPIFY_DOMAIN, "api_url": store.url})
    shop_id = wait_for_installed(services, "shopify")
    assert store.recorder.take().count("webhookSubscriptionCreate") == 8
    run_cycle(services, shop_id, write_feed(tmp_path / "feed.csv", shopify_feed_rows()), "shirts-and-co")
    # The cycle's own writes echo back as orders/updated deliveries; on a busy machine some arrive only
    # now, so they are taken in first and the pass below sees the new order's deliveries alone.
    assert sandbox_of(store.server.app).webhooks.flush(10)
    one_worker_pass(services)
    synced_at = last_sync(services, shop_id)
    store.recorder.take()

    placed = requests.post(f"{store.url}/_sandbox/orders", timeout=10, json={
        "customer": {"firstName": "Noor", "email": "noor@example.com"},
        "line_items": [{"sku": "E2E-SHIRT", "quantity": 1}]}).json()
    assert sandbox_of(store.server.app).webhooks.flush(10)
    stats = one_worker_pass(services)

    # One pass stored, reconciled and pushed the order; the stock refresh the stock webhook asked for
    # has not run yet, and no sync read the store since the first one.
    assert (stats.jobs, stats.deliveries) == (0, 2)
    assert last_sync(services, shop_id) == synced_at
    decision = stored_by_delivery(services, shop_id, str(placed["legacy_id"]), "orders/create")
    assert (decision.status, decision.eta) == ("backordered", day(13))
    marks = requests.get(f"{store.url}/_sandbox/orders/{placed['legacy_id']}", timeout=10).json()
    assert marks["tags"] == ["backordered"] and marks["metafields"]["backorder.eta"]["value"] == day(13).isoformat()
    assert [hold["reason"] for hold in marks["holds"]] == ["INVENTORY_OUT_OF_STOCK"]
    assert sorted(store.recorder.take()) == ["fulfillmentOrderHold", "metafieldsSet", "orderUpdate", "tagsAdd"]
    assert [to for to, _ in eml_notices(services.settings.outbox_dir)].count("Noor <noor@example.com>") == 1


def test_woocommerce_order_placed_after_install_arrives_by_webhook(
    web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from sandbox.woocommerce import sandbox_of

    server, services = web
    store: Store = start_woocommerce(tmp_path, request)
    connect_woocommerce(server.url, store.url)
    shop_id = wait_for_installed(services, "woocommerce")
    hooks = requests.get(f"{store.url}/_sandbox/webhooks", timeout=10).json()
    assert {hook["topic"] for hook in hooks} == {"order.created", "order.updated", "order.deleted", "product.updated"}
    assert {hook["last_ping_status"] for hook in hooks} == {200}
    run_cycle(services, shop_id, write_feed(tmp_path / "feed.csv", woocommerce_feed_rows()), "kitchen")
    synced_at = last_sync(services, shop_id)

    placed = requests.post(f"{store.url}/_sandbox/orders", timeout=10, json={
        "status": "processing", "billing": {"first_name": "Lea", "email": "lea.new@example.com"},
        "line_items": [{"sku": "WE2E-KETTLE", "quantity": 1}]}).json()
    assert sandbox_of(store.server.app).dispatcher.flush(10)
    drain(services)

    # WooCommerce took the kettle off stock when the order was placed, so the order alone cannot be
    # judged: the product.updated delivery asks for a stock refresh, the only sync that ran.
    decision = stored_by_delivery(services, shop_id, str(placed["id"]), "order.created")
    assert (decision.status, decision.eta) == ("backordered", day(11))
    refreshed = last_sync(services, shop_id)
    assert synced_at is not None and refreshed is not None and refreshed > synced_at
    with services.db.session() as session:
        notes = set(session.scalars(select(InboxItem.note).where(InboxItem.topic == "product.updated")))
    assert notes == {"stock refresh scheduled (sku WE2E-KETTLE)"}
    order = requests.get(f"{store.url}/_sandbox/orders/{placed['id']}", timeout=10).json()
    meta = {entry["key"]: entry["value"] for entry in order["meta_data"]}
    assert (meta["_backorder_status"], meta["_backorder_eta"]) == ("backordered", day(11).isoformat())
    assert [email["to"] for email in order["emails"]] == ["lea.new@example.com"]
