"""WooPlatform against `responses`: order keyset sync, stock, marks, notes, customer notes, webhooks."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from woo_support import API, client, order_json

from connector.errors import NotFoundError, UserError
from connector.platforms.base import HoldRequest, LineMark, OrderMarks, Platform, WriteRequest
from connector.platforms.woocommerce.adapter import (
    META_ETA,
    META_LINES,
    META_NOTE,
    META_STATUS,
    NOTE_HEADER,
    BatchWriteError,
    WooPlatform,
    marks_meta,
)
from connector.platforms.woocommerce.auth import webhook_signature

BACKORDERED = OrderMarks(status="backordered", eta=date(2026, 12, 1),
                         lines=(LineMark(line_id="10", sku="SKU-1", backordered=2, eta=date(2026, 12, 1)),))


def query_of(call: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(call.request.url).query).items()}


def platform() -> WooPlatform:
    return WooPlatform(client())


def test_is_a_platform_without_tags_or_holds() -> None:
    woo = platform()
    assert isinstance(woo, Platform)
    assert (woo.capabilities.tags, woo.capabilities.holds, woo.capabilities.customer_notes) == (False, False, True)
    assert woo.capabilities.marks_batch_size == 100


@responses.activate
def test_tags_and_holds_do_nothing_without_requests() -> None:
    woo = platform()
    assert woo.add_tag("1", "backordered") is False
    assert woo.remove_tag("1", "backordered") is False
    assert woo.hold("1", HoldRequest(line_ids=("10",), reason="INVENTORY_OUT_OF_STOCK")) is False
    assert woo.release("1") is False
    assert len(responses.calls) == 0


@responses.activate
def test_iter_orders_asks_for_every_status_modified_since_the_cursor_in_gmt() -> None:
    responses.get(API + "orders", json=[order_json(1, "2026-11-01T10:00:05", status="cancelled")])
    orders = list(platform().iter_orders(datetime(2026, 11, 1, 10, 0, 0, tzinfo=timezone.utc)))
    assert [(o.platform_id, o.is_open) for o in orders] == [("1", False)]
    assert query_of(responses.calls[0]) == {
        "modified_after": "2026-11-01T09:59:59",  # the API is strictly after; the protocol says at or after
        "dates_are_gmt": "true", "orderby": "modified", "order": "asc", "per_page": "100", "page": "1",
    }


@responses.activate
def test_iter_orders_walks_by_keyset_and_yields_overlap_once() -> None:
    first = [order_json(i, f"2026-11-01T10:{i // 60:02d}:{i % 60:02d}") for i in range(100)]
    # the second request starts one second before the newest order seen, so order 99 comes back
    second = [order_json(99, "2026-11-01T10:01:39"), order_json(100, "2026-11-01T11:00:00")]
    responses.get(API + "orders", json=first, headers={"X-WP-TotalPages": "2"})
    responses.get(API + "orders", json=second, headers={"X-WP-TotalPages": "1"})
    ids = [o.platform_id for o in platform().iter_orders(None)]
    assert ids == [str(i) for i in range(101)]
    assert "modified_after" not in query_of(responses.calls[0])
    assert query_of(responses.calls[1])["modified_after"] == "2026-11-01T10:01:38"
    assert query_of(responses.calls[1])["page"] == "1"


@responses.activate
def test_iter_orders_falls_back_to_pages_when_a_page_shares_one_second() -> None:
    same = [order_json(i, "2026-11-01T10:00:00") for i in range(100)]
    responses.get(API + "orders", json=same)
    responses.get(API + "orders", json=same)
    responses.get(API + "orders", json=same[:100])
    responses.get(API + "orders", json=[order_json(500, "2026-11-01T10:00:00")])
    ids = [o.platform_id for o in platform().iter_orders(datetime(2026, 11, 1, tzinfo=timezone.utc))]
    assert ids == [str(i) for i in range(100)] + ["500"]
    pages = [(query_of(c)["modified_after"], query_of(c)["page"]) for c in responses.calls]
    assert pages[0] == ("2026-10-31T23:59:59", "1")
    assert pages[1] == ("2026-11-01T09:59:59", "1")
    assert pages[2:] == [("2026-11-01T09:59:59", "2"), ("2026-11-01T09:59:59", "3")]


@responses.activate
def test_get_order_maps_or_returns_none_when_gone() -> None:
    responses.get(API + "orders/7", json=order_json(7))
    responses.get(API + "orders/8", status=404, json={"code": "woocommerce_rest_shop_order_invalid_id",
                                                      "message": "Invalid ID.", "data": {"status": 404}})
    woo = platform()
    order = woo.get_order("7")
    assert order is not None and order.lines[0].title == "Widget – blue"
    assert woo.get_order("8") is None


@responses.activate
def test_iter_stock_reports_raw_quantities_and_shared_parent_pools() -> None:
    responses.get(API + "products", json=[
        {"id": 1, "type": "simple", "sku": "SIMPLE", "manage_stock": True, "stock_quantity": -2},
        {"id": 2, "type": "simple", "sku": "UNTRACKED", "manage_stock": False, "stock_quantity": None},
        {"id": 3, "type": "variable", "sku": "SHIRT", "manage_stock": True, "stock_quantity": 9},
        {"id": 4, "type": "grouped", "sku": "BUNDLE", "manage_stock": False, "stock_quantity": None},
        {"id": 5, "type": "simple", "sku": "", "manage_stock": True, "stock_quantity": 3},
    ])
    responses.get(API + "products/3/variations", json=[
        {"id": 31, "sku": "SHIRT-S", "manage_stock": True, "stock_quantity": 4},
        {"id": 32, "sku": "SHIRT-M", "manage_stock": "parent", "stock_quantity": 9},
        {"id": 33, "sku": "SHIRT-L", "manage_stock": "parent", "stock_quantity": 9},
    ])
    records = {(r.sku, r.quantity, r.tracked, r.item_ref) for r in platform().iter_stock()}
    assert records == {
        ("SIMPLE", -2, True, "1"),
        ("UNTRACKED", 0, False, "2"),
        ("SHIRT-S", 4, True, "31"),
        ("SHIRT-M", 9, True, "3"),  # one pool shared with SHIRT-L, named by the parent id
        ("SHIRT-L", 9, True, "3"),
    }
    assert query_of(responses.calls[1])["per_page"] == "100"


def marks_server(orders: dict[int, dict[str, str]], batch_errors: dict[int, dict[str, str]] | None = None):
    """Serve GET /orders?include=… from `orders` and record PUT/batch writes into it."""
    writes: list[tuple[str, Any]] = []

    def listing(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        ids = [int(i) for i in query["include"][0].split(",")]
        assert len(ids) <= 100 and query["_fields"] == ["id,meta_data"]
        body = [{"id": i, "meta_data": [{"key": k, "value": v} for k, v in orders[i].items()]} for i in ids if i in orders]
        return 200, {"X-WP-TotalPages": "1"}, json.dumps(body)

    def batch(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        updates = json.loads(request.body)["update"]
        writes.append(("batch", updates))
        answer = []
        for update in updates:
            if update["id"] in (batch_errors or {}):
                answer.append({"id": update["id"], "error": batch_errors[update["id"]]})
            else:
                orders[update["id"]].update({m["key"]: m["value"] for m in update["meta_data"]})
                answer.append({"id": update["id"]})
        return 200, {}, json.dumps({"update": answer})

    def put(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        order_id = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        writes.append(("put", order_id))
        orders[order_id].update({m["key"]: m["value"] for m in json.loads(request.body)["meta_data"]})
        return 200, {}, json.dumps({"id": order_id})

    responses.add_callback(responses.GET, API + "orders", callback=listing)
    responses.add_callback(responses.POST, API + "orders/batch", callback=batch)
    responses.add_callback(responses.PUT, re.compile(re.escape(API) + r"orders/\d+$"), callback=put)
    return writes


@responses.activate
def test_write_marks_batches_at_most_100_and_skips_unchanged() -> None:
    unchanged = marks_meta(BACKORDERED)
    orders = {i: (dict(unchanged) if i % 5 == 0 else {}) for i in range(1, 251)}
    writes = marks_server(orders)
    result = platform().write_marks((str(i), BACKORDERED) for i in range(1, 251))
    assert sum(result.values()) == 200 and not any(result[str(i)] for i in range(5, 251, 5))
    assert [kind for kind, _ in writes] == ["batch", "batch"]
    assert [len(updates) for _, updates in writes] == [100, 100]
    assert orders[1] == unchanged
    json.loads(orders[1][META_LINES])
    assert orders[1][META_STATUS] == "backordered" and orders[1][META_ETA] == "2026-12-01"
    # nothing changed: a re-run reads but writes nothing
    writes.clear()
    assert not any(platform().write_marks((str(i), BACKORDERED) for i in range(1, 251)).values())
    assert writes == []


@responses.activate
def test_one_changed_order_is_a_put_and_gone_orders_are_false() -> None:
    orders = {1: {}}
    writes = marks_server(orders)
    cleared = OrderMarks(status="ok", eta=None)
    assert platform().write_marks([("1", cleared), ("2", cleared)]) == {"1": True, "2": False}
    assert writes == [("put", 1)]
    assert orders[1] == {META_STATUS: "ok", META_ETA: "", META_LINES: "[]"}


@responses.activate
def test_batch_inline_errors_are_reported_after_the_rest_is_written() -> None:
    orders = {1: {}, 2: {}, 3: {}}
    marks_server(orders, batch_errors={
        2: {"code": "woocommerce_rest_invalid_meta", "message": "Meta refused", "data": {"status": 400}},
        3: {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 400}},
    })
    with pytest.raises(BatchWriteError) as caught:
        platform().write_marks([(str(i), BACKORDERED) for i in (1, 2, 3)])
    assert caught.value.failed == {"2": "woocommerce_rest_invalid_meta: Meta refused"}
    assert caught.value.changed == {"1": True, "2": False, "3": False}
    assert "order 2" in str(caught.value)
    assert orders[1] == marks_meta(BACKORDERED)


def note(note_id: int, text: str, when: str, customer: bool = False) -> dict[str, Any]:
    return {"id": note_id, "note": text, "customer_note": customer, "date_created_gmt": when, "author": "shop"}


@responses.activate
def test_the_merchant_note_is_order_meta_written_only_when_it_changes() -> None:
    orders = {4: {META_NOTE: f"{NOTE_HEADER}\nSKU-1: expected 1 Dec"}, 5: {}}
    writes = marks_server(orders)
    woo = platform()
    assert woo.write_note("4", "SKU-1: expected 1 Dec") is False
    assert writes == []
    assert woo.write_note("4", "SKU-1: expected 5 Dec") is True
    assert orders[4][META_NOTE] == f"{NOTE_HEADER}\nSKU-1: expected 5 Dec"


@responses.activate
def test_write_batch_reads_once_writes_once_and_settles_each_request_alone() -> None:
    orders = {i: {} for i in range(1, 6)}
    orders[2] = {**marks_meta(BACKORDERED), META_NOTE: f"{NOTE_HEADER}\nsame"}
    writes = marks_server(orders, batch_errors={
        3: {"code": "woocommerce_rest_invalid_meta", "message": "Meta refused", "data": {"status": 400}},
        4: {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}})
    requests_ = [WriteRequest(10 + i, str(i), "marks", marks=BACKORDERED) for i in (1, 2, 3, 4, 9)]
    requests_ += [WriteRequest(20 + i, str(i), "note", text="same") for i in (1, 2)]
    requests_ += [WriteRequest(30, "1", "tag"), WriteRequest(31, "1", "hold", hold=HoldRequest(("10",), "INVENTORY_OUT_OF_STOCK"))]
    outcomes = platform().write_batch(requests_)
    assert [call.request.method for call in responses.calls] == ["GET", "POST"]  # one read, one batch write
    assert [update["id"] for update in writes[0][1]] == [1, 3, 4]  # order 2 already says it all
    assert outcomes[11] is True and outcomes[21] is True and orders[1][META_NOTE] == f"{NOTE_HEADER}\nsame"
    assert outcomes[12] is False and outcomes[22] is False
    assert isinstance(outcomes[13], UserError) and not isinstance(outcomes[13], NotFoundError)
    assert isinstance(outcomes[14], NotFoundError) and isinstance(outcomes[19], NotFoundError)
    assert outcomes[30] is False and outcomes[31] is False


@responses.activate
def test_announced_notices_are_recorded_with_the_batch_write_and_cost_one_post_each() -> None:
    orders = {4: {}, 5: {"_backorder_notices": json.dumps({"old": "2026-11-01T10:00:00"})}, 6: {}}
    writes = marks_server(orders)
    responses.post(API + "orders/4/notes", status=201, json={"id": 2})
    responses.post(API + "orders/5/notes", status=201, json={"id": 3})
    woo = platform()
    woo.prepare_customer_notes([("4", "n-4"), ("5", "n-5")])
    assert [call.request.method for call in responses.calls] == ["GET"]  # nothing written yet
    outcomes = woo.write_batch([WriteRequest(1, "6", "marks", marks=BACKORDERED), WriteRequest(2, "4", "note", text="x")])
    assert outcomes == {1: True, 2: True}
    assert [call.request.method for call in responses.calls] == ["GET", "GET", "POST"]  # order 6 read, one batch write
    assert sorted(update["id"] for update in writes[0][1]) == [4, 5, 6]  # the references rode along
    assert sorted(json.loads(orders[5]["_backorder_notices"])) == ["n-5", "old"]
    assert woo.send_customer_note("4", "Delayed", "n-4") is True
    assert woo.send_customer_note("5", "Delayed", "n-5") is True
    assert [call.request.url.rsplit("/v3/", 1)[1] for call in responses.calls[3:]] == ["orders/4/notes", "orders/5/notes"]


@responses.activate
def test_announced_notices_are_recorded_before_the_first_note_when_nothing_else_is_written() -> None:
    orders = {4: {}}
    writes = marks_server(orders)
    responses.post(API + "orders/4/notes", status=201, json={"id": 2})
    woo = platform()
    woo.prepare_customer_notes([("4", "n-4")])
    assert woo.send_customer_note("4", "Delayed", "n-4") is True
    assert [call.request.method for call in responses.calls] == ["GET", "POST", "POST"]
    assert len(writes) == 1 and "n-4" in json.loads(orders[4]["_backorder_notices"])


def notices_meta(refs: dict[str, str]) -> dict[str, Any]:
    return {"id": 4, "meta_data": [{"id": 1, "key": "_backorder_notices", "value": json.dumps(refs)}]}


@responses.activate
def test_customer_note_carries_only_the_text_and_its_reference_goes_in_the_order_meta() -> None:
    responses.get(API + "orders/4", json={"id": 4, "meta_data": []})
    responses.put(API + "orders/4", json={"id": 4, "date_modified_gmt": "2026-11-01T10:00:00"})
    responses.post(API + "orders/4/notes", status=201, json={"id": 2})
    assert platform().send_customer_note("4", "Your order is delayed.", "notice-1") is True
    put = json.loads(responses.calls[1].request.body)
    [meta] = put["meta_data"]
    assert meta["key"] == "_backorder_notices" and "notice-1" in json.loads(meta["value"])
    posted = json.loads(responses.calls[-1].request.body)
    assert posted == {"note": "Your order is delayed.", "customer_note": True}  # no reference for the customer


@responses.activate
def test_customer_note_is_sent_once_per_reference() -> None:
    responses.get(API + "orders/4", json=notices_meta({"notice-10": "2026-11-01T10:00:00"}))
    responses.get(API + "orders/4/notes", json=[
        note(1, "<p>Your order is delayed.</p>", "2026-11-01T10:00:01", customer=True),
        note(0, "Your order is delayed.", "2026-10-01T10:00:00", customer=True),  # an older, earlier notice
    ])
    woo = platform()
    assert woo.send_customer_note("4", "Your order is delayed.", "notice-10") is False
    assert query_of(responses.calls[1]) == {"type": "customer"}
    assert [call.request.method for call in responses.calls] == ["GET", "GET"]


@responses.activate
def test_a_resend_with_the_same_text_is_posted_again() -> None:
    # Started once (recorded) but the note never landed: the same reference is posted now.
    responses.get(API + "orders/4", json=notices_meta({"notice-1": "2026-11-02T10:00:00"}))
    responses.get(API + "orders/4/notes", json=[note(1, "Ready to ship", "2026-11-01T09:00:00", customer=True)])
    responses.post(API + "orders/4/notes", status=201, json={"id": 2})
    assert platform().send_customer_note("4", "Ready to ship", "notice-1") is True
    assert responses.calls[-1].request.method == "POST"


@responses.activate
def test_customer_note_post_is_not_blindly_retried() -> None:
    responses.get(API + "orders/4", json={"id": 4, "meta_data": []})
    responses.put(API + "orders/4", json={"id": 4, "date_modified_gmt": "2026-11-01T10:00:00"})
    responses.post(API + "orders/4/notes", body=requests.ReadTimeout("lost answer"))
    responses.get(API + "orders/4/notes", json=[note(5, "Delayed", "2026-11-01T10:00:02", True)])
    assert platform().send_customer_note("4", "Delayed", "n-1") is True
    assert [call.request.method for call in responses.calls] == ["GET", "PUT", "POST", "GET"]


@responses.activate
def test_ensure_webhooks_creates_missing_ones_and_leaves_a_paused_one_paused() -> None:
    address = "https://app.example/webhooks/woocommerce/3"
    responses.get(API + "webhooks", json=[
        {"id": 11, "topic": "order.created", "delivery_url": address, "status": "active"},
        {"id": 12, "topic": "order.updated", "delivery_url": address, "status": "paused"},
        {"id": 13, "topic": "order.deleted", "delivery_url": "https://other.example/hook", "status": "active"},
    ])
    created = iter((21, 22))
    responses.add_callback(responses.POST, API + "webhooks",
                           callback=lambda request: (201, {}, json.dumps({"id": next(created), **json.loads(request.body)})))
    infos = platform().ensure_webhooks(address, ["order.created", "order.updated", "order.deleted", "product.updated"])
    assert [(i.id, i.topic, i.action) for i in infos] == [
        ("11", "order.created", "unchanged"), ("12", "order.updated", "paused"),
        ("21", "order.deleted", "created"), ("22", "product.updated", "created"),
    ]
    assert "leaves it paused" in (infos[1].note or "")
    assert infos[0].secret is None and infos[1].secret is None
    new_secrets = [infos[2].secret, infos[3].secret]
    assert all(s and len(s) >= 32 for s in new_secrets) and new_secrets[0] != new_secrets[1]
    bodies = [json.loads(c.request.body) for c in responses.calls if c.request.method == "POST"]
    assert [b["secret"] for b in bodies] == new_secrets
    assert all(b["status"] == "active" and b["delivery_url"] == address for b in bodies)
    assert not [c for c in responses.calls if c.request.method == "PUT"]  # the merchant's pause is theirs
    assert new_secrets[0] not in repr(infos[2])


@responses.activate
@pytest.mark.parametrize(("intake_status", "action"), [(200, "reenabled"), (503, "disabled")])
def test_a_webhook_woocommerce_disabled_is_re_enabled_only_after_a_test_delivery_gets_through(
        intake_status: int, action: str) -> None:
    address = "https://app.example/webhooks/woocommerce/3"
    responses.get(API + "webhooks", json=[{"id": 12, "topic": "order.updated", "delivery_url": address,
                                           "status": "disabled"}])
    responses.post(address, status=intake_status, json={"status": "stored"})
    responses.put(API + "webhooks/12", json={"id": 12, "status": "active"})
    (info,) = platform().ensure_webhooks(address, ["order.updated"], secrets={"12": "hook-secret"})
    assert info.action == action and "WooCommerce disabled it after repeated failed deliveries" in (info.note or "")
    test = next(c.request for c in responses.calls if c.request.url == address)
    assert test.headers["X-WC-Webhook-Topic"] == "action.backorder_connector_test"
    assert test.headers["X-WC-Webhook-ID"] == "12"
    assert test.headers["X-WC-Webhook-Signature"] == webhook_signature(test.body, "hook-secret")
    puts = [c for c in responses.calls if c.request.method == "PUT"]
    assert len(puts) == (1 if action == "reenabled" else 0)
    if action == "disabled":
        assert "HTTP 503" in (info.note or "") and "stays disabled" in (info.note or "")


@responses.activate
def test_a_disabled_webhook_whose_secret_is_unknown_stays_disabled() -> None:
    address = "https://app.example/webhooks/woocommerce/3"
    responses.get(API + "webhooks", json=[{"id": 12, "topic": "order.updated", "delivery_url": address,
                                           "status": "disabled"}])
    (info,) = platform().ensure_webhooks(address, ["order.updated"], secrets={"99": "another"})
    assert info.action == "disabled" and "cannot be tested" in (info.note or "")
    assert [c.request.method for c in responses.calls] == ["GET"]
