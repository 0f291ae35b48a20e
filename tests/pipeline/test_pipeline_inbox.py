"""Inbox processing: each delivery applied once in effect, out-of-order safety, retries, replay and GDPR erasure."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from connector.errors import TransportError
from connector.pipeline import inbox as inbox_module
from connector.pipeline.executor import run_due_actions
from connector.pipeline.inbox import process_due_deliveries, replay
from connector.pipeline.intake import store_delivery
from connector.pipeline.retry import RetryPolicy, no_jitter
from connector.platforms.inbound import EventKind
from connector.store.models import Action, InboxItem, Job, Order, Shop
from tests.pipeline.conftest import T0, World

IMMEDIATE = RetryPolicy(max_attempts=3, jitter=no_jitter, base=timedelta(0))
EMAIL = "grace.hopper@example.org"


def shopify_order(order_id: int, *, updated: int = 0, qty: int = 1, cancelled: bool = False,
                  email: str = EMAIL, customer_id: int = 77) -> dict[str, Any]:
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "created_at": T0.isoformat(),
        "updated_at": (T0 + timedelta(minutes=updated)).isoformat(),
        "cancelled_at": (T0 + timedelta(minutes=updated)).isoformat() if cancelled else None,
        "email": email,
        "customer": {"id": customer_id, "first_name": "Grace" if customer_id == 77 else "Alan", "last_name": "Hopper" if customer_id == 77 else "Turing", "email": email},
        "line_items": [{"id": order_id * 10, "sku": "SKU-A", "quantity": qty, "title": "Widget"}],
    }


def deliver(world: World, topic: str, body: Any, delivery_id: str, *, raw: bytes | None = None) -> bool:
    with world.db.session() as session:
        return store_delivery(
            session, platform="shopify", delivery_id=delivery_id, topic=topic, shop_domain="test.myshopify.com",
            shop_id=None, headers={"X-Shopify-Topic": topic}, body=raw if raw is not None else json.dumps(body).encode(),
        )


def items(world: World) -> list[InboxItem]:
    with world.db.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def stored_order(world: World, platform_id: str) -> Order | None:
    with world.db.session() as session:
        return session.scalar(select(Order).where(Order.platform_id == platform_id))


def test_a_repeated_delivery_is_stored_once_and_applied_once(world: World) -> None:
    deliver(world, "orders/create", shopify_order(1), "d-1")
    deliver(world, "orders/create", shopify_order(1), "d-1")

    assert process_due_deliveries(world.services) == 1
    assert process_due_deliveries(world.services) == 0
    [item] = items(world)
    assert item.status == "done" and item.attempts == 1
    assert stored_order(world, "1") is not None


def test_an_older_update_arriving_late_does_not_overwrite_a_newer_one(world: World) -> None:
    deliver(world, "orders/updated", shopify_order(1, updated=10, qty=3), "d-new")
    deliver(world, "orders/updated", shopify_order(1, updated=5, qty=1), "d-old")

    process_due_deliveries(world.services)

    order = stored_order(world, "1")
    assert order is not None and order.updated_at == T0 + timedelta(minutes=10)
    with world.db.session() as session:
        assert session.scalar(text("SELECT quantity FROM order_lines")) == 3
    assert {i.delivery_id: i.status for i in items(world)} == {"d-new": "done", "d-old": "done"}
    assert "older" in (items(world)[1].note or "")


def test_a_cancellation_closes_the_order(world: World) -> None:
    deliver(world, "orders/create", shopify_order(1), "d-1")
    deliver(world, "orders/cancelled", shopify_order(1, updated=3, cancelled=True), "d-2")

    process_due_deliveries(world.services)

    order = stored_order(world, "1")
    assert order is not None and order.is_open is False


def test_a_delivery_reconciles_its_shop_and_queues_actions(world: World) -> None:
    world.set_stock(**{"SKU-A": 0})
    deliver(world, "orders/create", shopify_order(1), "d-1")

    process_due_deliveries(world.services)

    with world.db.session() as session:
        kinds = sorted(session.scalars(select(Action.kind)))
    assert kinds == sorted(["tag", "marks", "note", "hold", "notify"])


def test_a_malformed_body_is_dead_at_once(world: World) -> None:
    deliver(world, "orders/create", None, "d-bad", raw=b"{not json")
    deliver(world, "orders/create", {"id": 5}, "d-incomplete")

    process_due_deliveries(world.services, retry=IMMEDIATE)

    bad, incomplete = items(world)
    assert bad.status == "dead" and bad.attempts == 1 and "not JSON" in (bad.last_error or "")
    assert incomplete.status == "dead" and "created_at" in (incomplete.last_error or "")


def test_an_unknown_topic_is_settled_with_a_note(world: World) -> None:
    deliver(world, "themes/publish", {"id": 1}, "d-theme")

    process_due_deliveries(world.services)

    [item] = items(world)
    assert item.status == "done" and "no handler" in (item.note or "")


def test_failures_are_retried_then_dead_and_a_replay_applies_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real = inbox_module.EFFECTS[EventKind.ORDER_CHANGED]
    failing = {"left": 10}

    def flaky(*args: Any) -> Any:
        if failing["left"]:
            failing["left"] -= 1
            raise TransportError("database of the store timed out")
        return real(*args)

    monkeypatch.setitem(inbox_module.EFFECTS, EventKind.ORDER_CHANGED, flaky)
    deliver(world, "orders/create", shopify_order(1), "d-1")

    process_due_deliveries(world.services, retry=IMMEDIATE)

    [item] = items(world)
    assert item.status == "dead" and item.attempts == 3 and "timed out" in (item.last_error or "")
    assert stored_order(world, "1") is None

    failing["left"] = 0
    with world.db.session() as session:
        assert replay(session, all_dead=True) == 1
    process_due_deliveries(world.services, retry=IMMEDIATE)
    [item] = items(world)
    assert item.status == "done" and item.last_error is None
    assert stored_order(world, "1") is not None


def test_stock_update_schedules_an_immediate_sync(world: World) -> None:
    world.set_stock(**{"SKU-A": 1})
    deliver(world, "inventory_levels/update", {"inventory_item_id": "item-SKU-A", "location_id": 1, "available": 0}, "d-1")

    process_due_deliveries(world.services)

    with world.db.session() as session:
        job = session.scalar(select(Job).where(Job.kind == "sync"))
    assert job is not None and job.next_run_at <= items(world)[0].processed_at
    assert "SKU-A" in (items(world)[0].note or "")


def test_uninstall_deletes_the_tokens_and_deactivates_the_shop(world: World) -> None:
    with world.db.session() as session:
        shop = session.get(Shop, world.shop_id)
        shop.credentials = world.services.box.seal({"access_token": "shpat_secret"})
    deliver(world, "app/uninstalled", {"id": 1, "domain": "test.myshopify.com"}, "d-1")

    process_due_deliveries(world.services)

    with world.db.session() as session:
        shop = session.get(Shop, world.shop_id)
        assert shop.credentials is None and shop.active is False and shop.uninstalled_at is not None


def _every_text_in_the_database(world: World) -> str:
    chunks: list[str] = []
    with world.db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        chunks.append(bytes(value).decode("utf-8", "replace"))
                    elif value is not None:
                        chunks.append(str(value))
    return "\n".join(chunks).lower()


def test_customer_redact_erases_the_customer_everywhere(world: World) -> None:
    world.set_stock(**{"SKU-A": 0})
    deliver(world, "orders/create", shopify_order(1), "d-1")
    deliver(world, "orders/create", shopify_order(2, email="someone.else@example.org", customer_id=78), "d-2")
    process_due_deliveries(world.services)
    run_due_actions(world.services)  # .eml notices go to the outbox folder
    assert EMAIL in _every_text_in_the_database(world)
    outbox = world.data_dir / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 2

    deliver(world, "customers/redact",
            {"shop_domain": "test.myshopify.com", "customer": {"id": 77, "email": EMAIL}, "orders_to_redact": [1]},
            "d-redact")
    process_due_deliveries(world.services)

    everything = _every_text_in_the_database(world)
    assert EMAIL not in everything
    assert "grace" not in everything and "hopper" not in everything
    assert "someone.else@example.org" in everything  # other customers are untouched
    remaining = [p.read_text() for p in outbox.glob("*.eml")]
    assert len(remaining) == 1 and EMAIL not in remaining[0]


def test_shop_redact_erases_all_of_the_shop(world: World) -> None:
    deliver(world, "orders/create", shopify_order(1), "d-1")
    process_due_deliveries(world.services)
    deliver(world, "shop/redact", {"shop_id": 1, "shop_domain": "test.myshopify.com"}, "d-redact")

    process_due_deliveries(world.services)

    with world.db.session() as session:
        for table in ("shops", "orders", "order_lines", "inbox", "actions", "order_decisions", "inventory_levels"):
            assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table
        assert session.scalar(text("SELECT count(*) FROM jobs WHERE target = :t"), {"t": f"shop:{world.shop_id}"}) == 0


def test_a_data_request_is_kept_with_a_note_for_the_merchant(world: World) -> None:
    deliver(world, "customers/data_request", {"customer": {"id": 77}, "orders_requested": [1, 2]}, "d-1")

    process_due_deliveries(world.services)

    [item] = items(world)
    assert item.status == "done" and "merchant must answer" in (item.note or "")
    assert b"orders_requested" in item.body


def test_a_delivery_for_an_unknown_shop_is_settled_not_retried(world: World) -> None:
    with world.db.session() as session:
        store_delivery(session, platform="shopify", delivery_id="d-x", topic="orders/create",
                       shop_domain="other.myshopify.com", shop_id=None, headers={}, body=b"{}")

    process_due_deliveries(world.services)

    [item] = items(world)
    assert item.status == "done" and "no shop" in (item.note or "")
    assert item.shop_id is None  # no shop to attribute it to: only an operator sees it


def test_the_worker_attributes_a_delivery_stored_under_its_domain_alone(world: World) -> None:
    deliver(world, "orders/create", shopify_order(1), "d-ok")
    assert items(world)[0].shop_id is None  # as the Shopify intake stores every delivery

    process_due_deliveries(world.services)

    [item] = items(world)
    assert (item.status, item.shop_id) == ("done", world.shop_id)


def test_a_failed_delivery_is_still_attributed_to_its_shop(world: World) -> None:
    deliver(world, "orders/create", None, "d-bad", raw=b"{not json")

    process_due_deliveries(world.services, retry=IMMEDIATE)

    [item] = items(world)
    assert (item.status, item.shop_id) == ("dead", world.shop_id)  # so its merchant sees it, and erasure finds it



def test_a_shop_erased_between_lookup_and_attribution_leaves_the_delivery_unattributed(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The race: the worker finds the shop, then its erasure commits before the attribution does.
    real_shop_for = inbox_module._shop_for
    calls: list[int] = []

    def erased_meanwhile(session: Any, item: InboxItem) -> Any:
        calls.append(item.id)
        return SimpleNamespace(id=world.shop_id + 999) if len(calls) == 1 else real_shop_for(session, item)

    monkeypatch.setattr(inbox_module, "_shop_for", erased_meanwhile)
    with world.db.session() as session:
        store_delivery(session, platform="shopify", delivery_id="d-x", topic="orders/create",
                       shop_domain="other.myshopify.com", shop_id=None, headers={}, body=b"{}")

    assert process_due_deliveries(world.services) == 1  # the pass goes on; it does not fail

    [item] = items(world)
    assert (item.status, item.shop_id) == ("done", None) and "no shop" in (item.note or "")


def woo_order(order_id: int, *, modified: int, status: str = "processing") -> dict[str, Any]:
    return {
        "id": order_id, "number": str(order_id), "status": status,
        "date_created_gmt": T0.replace(tzinfo=None).isoformat(),
        "date_modified_gmt": (T0 + timedelta(minutes=modified)).replace(tzinfo=None).isoformat(),
        "billing": {"first_name": "Ada", "email": "ada@example.org"},
        "line_items": [{"id": 5, "sku": "SKU-A", "quantity": 1, "name": "Widget"}],
    }


def deliver_woo(world: World, topic: str, body: dict[str, Any], delivery_id: str) -> None:
    with world.db.session() as session:
        store_delivery(session, platform="woocommerce", delivery_id=delivery_id, topic=topic,
                       shop_domain="https://woo.example", shop_id=world.shop_id, headers={},
                       body=json.dumps(body).encode())


def test_woocommerce_orders_are_stored_and_a_deletion_is_not_undone_by_a_late_update(world: World) -> None:
    with world.db.session() as session:
        shop = session.get(Shop, world.shop_id)
        shop.platform, shop.domain = "woocommerce", "https://woo.example"
    deliver_woo(world, "order.created", woo_order(42, modified=0), "w-1")
    process_due_deliveries(world.services)
    assert stored_order(world, "42").is_open is True  # type: ignore[union-attr]

    deliver_woo(world, "order.deleted", {"id": 42}, "w-2")
    deliver_woo(world, "order.updated", woo_order(42, modified=1), "w-3")  # sent before the deletion
    process_due_deliveries(world.services)

    order = stored_order(world, "42")
    assert order is not None and order.is_open is False and order.status == "trash"
    assert {i.delivery_id: i.status for i in items(world)} == {"w-1": "done", "w-2": "done", "w-3": "done"}


def test_a_delivery_recorded_without_its_body_schedules_a_sync_to_fetch_the_order(world: World) -> None:
    with world.db.session() as session:
        store_delivery(session, platform="shopify", delivery_id="big-1", topic="orders/updated",
                       shop_domain="test.myshopify.com", shop_id=None, headers={}, body=b"", body_omitted=12_000_000)
    process_due_deliveries(world.services)
    [item] = items(world)
    assert item.status == "done" and "12000000 bytes" in (item.note or "") and "sync" in (item.note or "")
    with world.db.session() as session:
        job = session.scalar(select(Job).where(Job.kind == "sync"))
    assert job is not None and item.processed_at is not None and job.next_run_at <= item.processed_at


def test_a_bulk_finish_for_an_export_in_flight_schedules_the_full_sync_that_adopts_it(world: World) -> None:
    from connector.store.exports import DatabaseExportStore

    exports = DatabaseExportStore(world.db, world.shop_id)
    exports.remember("gid://shopify/BulkOperation/77")
    finish = {"admin_graphql_api_id": "gid://shopify/BulkOperation/77", "status": "completed", "error_code": None,
              "type": "query"}
    deliver(world, "bulk_operations/finish", finish, "d-1")
    deliver(world, "bulk_operations/finish", {**finish, "admin_graphql_api_id": "gid://shopify/BulkOperation/5"}, "d-2")
    process_due_deliveries(world.services)
    first, second = items(world)
    assert first.note == "bulk operation gid://shopify/BulkOperation/77 completed: a full sync will read it"
    assert second.note == "bulk operation gid://shopify/BulkOperation/5 (completed) is not one the connector started"
    assert exports.finished("gid://shopify/BulkOperation/77")
    with world.db.session() as session:
        job = session.scalar(select(Job).where(Job.kind == "full_sync"))
    assert job is not None and first.processed_at is not None and job.next_run_at <= first.processed_at


def test_the_connectors_own_woocommerce_test_delivery_is_settled_with_a_note(world: World) -> None:
    with world.db.session() as session:
        session.get(Shop, world.shop_id).platform = "woocommerce"  # type: ignore[union-attr]
        store_delivery(session, platform="woocommerce", delivery_id="t-1", topic="action.backorder_connector_test",
                       shop_domain="https://shop.example", shop_id=world.shop_id, headers={},
                       body=b'{"action":"backorder_connector_test","arg":"12"}')
    process_due_deliveries(world.services)
    [item] = items(world)
    assert item.status == "done" and "test delivery" in (item.note or "")
