"""Shopify end to end as a 2026 store answers: protected customer data withheld, bulk queries refused or
busy, the finish webhook, the 60-day window, and holds only where Shopify offers them."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.pipeline.sync import sync_shop
from connector.pipeline.webhook_setup import ensure_shop_webhooks
from connector.platforms.base import HOLD_HANDLE
from connector.platforms.shopify.bulk import BulkPolicy
from connector.services import Services, _connect_shop
from connector.store.models import Action, BulkExport, Order, Shop
from connector.web.app import create_app
from e2e_support import (
    SHOPIFY_DOMAIN,
    SHOPIFY_TOKEN,
    Store,
    connector,
    day,
    decisions,
    drain,
    e2e_services,
    eml_notices,
    run_cycle,
    shopify_feed_rows,
    shopify_seed,
    start_shopify,
    write_feed,
)

ADMIN_PASSWORD = "correct horse battery staple"
WITHOUT_THIRD_PARTY = ("write_orders,read_all_orders,read_inventory,write_products,"
                       "write_merchant_managed_fulfillment_orders")


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Any:
    built = e2e_services(database_url, tmp_path, admin_password=ADMIN_PASSWORD)
    yield built
    built.close()


def add_shop(services: Services, store: Store) -> int:
    output = connector(services.settings, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN,
                       "--token", SHOPIFY_TOKEN, "--api-url", store.url, "--name", "E2E Outfitters")
    return int(output.split()[1].rstrip(":"))


def control(store: Store, path: str, body: dict[str, Any]) -> None:
    answer = requests.post(f"{store.url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def marks(store: Store) -> dict[str, dict[str, Any]]:
    return {order["name"]: order for order in requests.get(f"{store.url}/_sandbox/orders", timeout=10).json()}


def dashboard_page(services: Services, path: str) -> str:
    client: FlaskClient = create_app(services).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token is not None
    client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": token.group(1)})
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_without_protected_data_orders_are_marked_and_their_notices_skipped(services: Services, tmp_path: Path,
                                                                            request: pytest.FixtureRequest) -> None:
    store = start_shopify(tmp_path, request)
    control(store, "access", {"protected_data": False})
    shop_id = add_shop(services, store)
    synced, reconciled, _ = run_cycle(services, shop_id, write_feed(tmp_path / "f.csv", shopify_feed_rows()), "acme")
    assert "read 4 orders" in synced and "4 open orders, 3 backordered" in reconciled
    with services.db.session() as session:
        orders = {o.name: o for o in session.scalars(select(Order))}
        assert all(o.contact_withheld and o.customer_email is None for o in orders.values())
        notices = list(session.scalars(select(Action).where(Action.kind == "notify")))
    # the orders still get their tag, ETA metafields, note and hold...
    shown = marks(store)
    for name in ("#1001", "#1003", "#1004"):
        assert "backordered" in shown[name]["tags"] and shown[name]["holds"] and shown[name]["note"]
    assert shown["#1001"]["metafields"]["backorder.eta"]["value"] == day(13).isoformat()
    # ...but their customers are not emailed: each notice is recorded as skipped, with the reason
    assert len(notices) == 3 and {n.status for n in notices} == {"skipped"}
    assert all(n.last_error and n.last_error.startswith("customer contact not available") for n in notices)
    assert eml_notices(services.settings.outbox_dir) == []
    page = dashboard_page(services, "/")
    assert "Customer contact details withheld" in page and "Protected customer data access" in page
    assert "Level 2" in page
    order_page = dashboard_page(services, f"/orders/{orders['#1001'].id}")
    assert "customer contact not available" in order_page and "not sent" in order_page


@pytest.mark.parametrize("rules", [{"refuse": "INVALID"}, {"refuse": "ACCESS_DENIED"},
                                   {"running_polls": 1, "ends": "FAILED", "error_code": "INTERNAL_SERVER_ERROR",
                                    "partial": True}])
def test_a_bulk_export_that_is_refused_or_fails_falls_back_to_paging(services: Services, tmp_path: Path,
                                                                     request: pytest.FixtureRequest,
                                                                     rules: dict[str, Any]) -> None:
    store = start_shopify(tmp_path, request)
    control(store, "bulk", rules)
    shop_id = add_shop(services, store)
    synced = connector(services.settings, "sync", "--shop", str(shop_id))  # exit 0: `connector` asserts it
    assert "full sync read 4 orders" in synced or "incremental sync read 4 orders" in synced
    assert len(decisions(services, shop_id)) == 0 and len(marks(store)) == 4


def test_a_busy_shop_is_waited_for_and_a_running_export_of_ours_is_adopted(services: Services, tmp_path: Path,
                                                                           request: pytest.FixtureRequest) -> None:
    from connector.platforms.shopify.documents import bulk_orders_query

    store = start_shopify(tmp_path, request)
    control(store, "bulk", {"concurrent_limit": 1, "occupy": {"query": bulk_orders_query(None), "polls": 2}})
    shop_id = add_shop(services, store)
    synced = connector(services.settings, "sync", "--shop", str(shop_id))
    assert "read 4 orders" in synced
    # Refused OPERATION_IN_PROGRESS, then adopted (the sync also puts the shop's webhooks in place, as every
    # sync does, CLI and worker alike: those are no order writes).
    writes = [write for write in store.recorder.take() if write != "webhookSubscriptionCreate"]
    assert writes == ["bulkOperationRunQuery"]
    with services.db.session() as session:
        orders = list(session.scalars(select(Order)))
        assert len(orders) == 4 and all(order.lines for order in orders)


def test_the_finish_webhook_leads_to_the_same_code_as_polling(tmp_path: Path, sqlite_url: str,
                                                              request: pytest.FixtureRequest, web: Any) -> None:
    server, services = web
    store = start_shopify(tmp_path, request)
    shop_id = add_shop(services, store)
    assert ensure_shop_webhooks(services, shop_id)  # the sandbox now delivers to the web app
    control(store, "bulk", {"running_polls": 1000})  # the export runs far longer than this sync waits

    def impatient(built: Services, shop: Any) -> Any:
        platform = _connect_shop(built, shop)
        platform.bulk_policy = BulkPolicy(poll_interval=0.05, timeout=0.3)  # type: ignore[attr-defined]
        return platform

    waiting = Services(services.settings, platform_factory=impatient, migrate=True)
    try:
        with waiting.db.session() as session:
            platform = waiting.platform_for(session.get(Shop, shop_id))  # type: ignore[arg-type]
        try:
            summary = sync_shop(waiting.db, shop_id, platform, full=True)
        finally:
            platform.close()
    finally:
        waiting.close()
    assert summary.orders_seen == 4  # read page by page meanwhile
    with services.db.session() as session:
        (export,) = session.scalars(select(BulkExport))
        assert export.consumed_at is None and export.finished_at is None
    store.recorder.take()

    control(store, "bulk/finish", {})  # the store finishes it; Shopify sends bulk_operations/finish
    assert requests.post(f"{store.url}/_sandbox/webhooks/flush", timeout=20).json()["flushed"]
    stats = drain(services)  # the worker applies the webhook, then runs the full sync it scheduled
    assert stats.deliveries >= 1 and stats.jobs >= 1
    writes = Counter(store.recorder.take())
    assert writes["bulkOperationRunQuery"] == 0  # the finished export was adopted, not started again
    with services.db.session() as session:
        (export,) = session.scalars(select(BulkExport))
        assert export.finished_at is not None and export.consumed_at is not None
        assert len(list(session.scalars(select(Order)))) == 4


def old_order_seed() -> dict[str, Any]:
    seed = shopify_seed()
    old = dict(seed["orders"][0], id=6099, name="#1099", createdAt=f"{day(-90).isoformat()}T09:00:00Z",
               updatedAt=f"{day(-90).isoformat()}T09:00:00Z", note=None, tags=[],
               lineItems=[{"id": 5990, "sku": "E2E-LANTERN", "quantity": 1}],
               customer={"id": 4099, "firstName": "Old", "lastName": "E2E", "email": "old@example.com", "locale": "en"})
    seed["orders"].append(old)
    return seed


def test_an_order_past_the_60_day_window_is_kept_out_of_reach(services: Services, tmp_path: Path,
                                                              request: pytest.FixtureRequest) -> None:
    store = start_shopify(tmp_path, request, seed=old_order_seed())
    shop_id = add_shop(services, store)
    feed = write_feed(tmp_path / "f.csv", shopify_feed_rows())
    run_cycle(services, shop_id, feed, "acme")
    assert decisions(services, shop_id)["#1099"] == ("backordered", None)
    assert "backordered" in marks(store)["#1099"]["tags"]

    control(store, "access", {"static_scopes": "write_orders,read_inventory,write_products,"
                                               "write_merchant_managed_fulfillment_orders"})
    synced = connector(services.settings, "sync", "--shop", str(shop_id))
    assert "1 older orders now out of the store's reach" in synced and "read_all_orders" in synced
    listing = connector(services.settings, "shops", "list")
    assert "read_all_orders" in listing
    with services.db.session() as session:
        old = session.scalar(select(Order).where(Order.name == "#1099"))
        assert old is not None and old.out_of_reach_at is not None and old.is_open  # kept, not deleted
    # a supplier date for the lantern changes its decision: the store writes are skipped, the customer told
    lantern = [*shopify_feed_rows(), {"sku": "E2E-LANTERN", "available": 0, "restock_date": day(20).isoformat(),
                                      "restock_qty": 5, "lead_time_days": 1}]
    run_cycle(services, shop_id, write_feed(tmp_path / "g.csv", lantern), "acme", as_of=day(1))
    with services.db.session() as session:
        actions = list(session.scalars(select(Action).where(Action.order_id == old.id).order_by(Action.id)))
    later = [a for a in actions if a.status == "skipped"]
    assert later and all("read_all_orders" in (a.last_error or "") for a in later)
    assert any(a.kind == "notify" and a.status == "sent" and a.payload["notice"] == "eta_changed" for a in actions)
    assert "Scope read_all_orders not granted" in dashboard_page(services, "/")


def test_holds_only_where_shopify_offers_them_and_releases_only_our_own(services: Services, tmp_path: Path,
                                                                       request: pytest.FixtureRequest) -> None:
    seed = shopify_seed()
    seed["locations"].append({"id": 7009, "name": "Acme 3PL", "fulfillmentService": True})
    seed["orders"][2]["foreignHolds"] = [{"handle": HOLD_HANDLE, "reason": "OTHER", "app": "other-app"}]  # #1003
    seed["orders"][3]["fulfillmentInProgress"] = True  # #1004 is being picked: no HOLD offered
    seed["orders"].append(dict(seed["orders"][2], id=6005, name="#1005", foreignHolds=[], fulfillmentLocationId=7009,
                               lineItems=[{"id": 5051, "sku": "E2E-LANTERN", "quantity": 1}]))  # ships from a 3PL
    store = start_shopify(tmp_path, request, seed=seed, static_scopes=WITHOUT_THIRD_PARTY)
    shop_id = add_shop(services, store)
    feed = write_feed(tmp_path / "f.csv", shopify_feed_rows())
    run_cycle(services, shop_id, feed, "acme")

    def holds() -> dict[str, tuple[str, str | None]]:
        with services.db.session() as session:
            return {name: (status, error) for name, status, error in session.execute(
                select(Order.name, Action.status, Action.last_error).join(Order, Order.id == Action.order_id)
                .where(Action.kind == "hold"))}

    held = holds()
    assert held["#1001"] == ("done", None) and held["#1003"] == ("done", None)
    assert held["#1005"][0] == "skipped" and "write_third_party_fulfillment_orders" in (held["#1005"][1] or "")
    assert held["#1004"][0] == "skipped" and "offers no HOLD" in (held["#1004"][1] or "")
    shown = marks(store)
    assert sorted(hold["reason"] for hold in shown["#1003"]["holds"]) == ["OTHER", "UNKNOWN_DELIVERY_DATE"]
    assert shown["#1005"]["holds"] == [] and shown["#1004"]["holds"] == []

    requests.post(f"{store.url}/_sandbox/inventory", json={"sku": "E2E-LANTERN", "quantities": {"available": 10}},
                  timeout=10)
    run_cycle(services, shop_id, feed, "acme")
    # only our hold was released, by its id: the other app's, with the very same handle, stays
    assert [hold["reason"] for hold in marks(store)["#1003"]["holds"]] == ["OTHER"]
    with services.db.session() as session:
        releases = dict(session.execute(select(Order.name, Action.status).join(Order, Order.id == Action.order_id)
                                        .where(Action.kind == "release")).all())
    assert releases["#1003"] == "done"
