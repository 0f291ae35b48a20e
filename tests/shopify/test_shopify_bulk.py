"""Bulk order export: started, polled, its JSON Lines streamed and reassembled by __parentId."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses
from shopify_support import TOKEN, FakeShopify, FakeTime, line_node, order_node

from connector.errors import InputError, PlatformError
from connector.platforms.shopify import documents
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.bulk import current_bulk_operation, orders_from_jsonl
from connector.platforms.shopify.client import ShopifyClient

RESULT_URL = "https://storage.googleapis.com/shopify-tiers-assets/bulk/result.jsonl?X-Goog-Signature=abc"
OPERATION = "gid://shopify/BulkOperation/42"


def _jsonl_records() -> list[dict]:
    records = []
    for number, line_numbers in ((1, (11, 12)), (2, ()), (3, (31,))):
        order = order_node(number)
        del order["lineItems"]
        records.append(order)
        for line in line_numbers:
            records.append({**line_node(line), "__parentId": order["id"]})
    return records


def _jsonl(records: list[dict]) -> str:
    return "\n".join(json.dumps(record) for record in records) + "\n"


def test_jsonl_lines_are_reassembled_into_orders() -> None:
    orders = list(orders_from_jsonl(_jsonl(_jsonl_records()).encode().splitlines()))
    assert [(o.platform_id, [line.platform_id for line in o.lines]) for o in orders] == [
        ("1", ["11", "12"]), ("2", []), ("3", ["31"])]


def test_orders_are_yielded_as_soon_as_they_are_complete() -> None:
    records = _jsonl_records()
    seen: list[int] = []

    def lines():
        for number, record in enumerate(records, 1):
            seen.append(number)
            yield json.dumps(record)

    stream = orders_from_jsonl(lines())
    first = next(stream)
    assert first.platform_id == "1" and seen == [1, 2, 3, 4]  # read up to the start of order 2, no further


def test_a_line_item_away_from_its_order_is_refused_with_its_line() -> None:
    records = _jsonl_records()
    records.append({**line_node(99), "__parentId": "gid://shopify/Order/1"})
    with pytest.raises(InputError, match="line 7"):
        list(orders_from_jsonl(_jsonl(records).splitlines()))


def test_a_broken_line_is_refused_with_its_number() -> None:
    with pytest.raises(InputError, match="line 2"):
        list(orders_from_jsonl([json.dumps(_jsonl_records()[0]), "{not json"]))


def test_bulk_orders_run_poll_and_stream(platform: ShopifyPlatform, shop: FakeShopify, rsps: responses.RequestsMock,
                                         fake_time: FakeTime) -> None:
    shop.data("BulkOperationRunQuery", {"bulkOperationRunQuery": {
        "bulkOperation": {"id": OPERATION, "status": "CREATED"}, "userErrors": []}})
    for _ in range(5):
        shop.data("BulkOperation", {"node": {"id": OPERATION, "status": "RUNNING", "objectCount": "3"}})
    shop.data("BulkOperation", {"node": {"id": OPERATION, "status": "COMPLETED", "url": RESULT_URL}})
    rsps.add(responses.GET, RESULT_URL, body=_jsonl(_jsonl_records()))
    orders = list(platform.run_bulk_orders(datetime(2026, 1, 1, tzinfo=UTC), poll_interval=3.0))
    assert [order.platform_id for order in orders] == ["1", "2", "3"]
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0, 3.0]  # quick at first, then every poll_interval
    assert shop.calls[0].variables == {"query": documents.bulk_orders_query("updated_at:>='2026-01-01T00:00:00Z'")}
    download = rsps.calls[-1].request
    assert download.req_kwargs["stream"] is True
    assert "X-Shopify-Access-Token" not in download.headers
    assert TOKEN not in str(download.headers)


def test_a_bulk_operation_that_matched_nothing_yields_nothing(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("BulkOperationRunQuery", {"bulkOperationRunQuery": {
        "bulkOperation": {"id": OPERATION, "status": "CREATED"}, "userErrors": []}})
    shop.data("BulkOperation", {"node": {"id": OPERATION, "status": "COMPLETED", "url": None}})
    assert list(platform.run_bulk_orders(None)) == []


def test_a_failed_bulk_operation_is_an_error(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("BulkOperationRunQuery", {"bulkOperationRunQuery": {
        "bulkOperation": {"id": OPERATION, "status": "CREATED"}, "userErrors": []}})
    shop.data("BulkOperation", {"node": {"id": OPERATION, "status": "FAILED", "errorCode": "TIMEOUT"}})
    with pytest.raises(PlatformError, match="FAILED") as caught:
        list(platform.run_bulk_orders(None))
    assert caught.value.code == "TIMEOUT"


def test_a_result_url_that_is_not_https_is_refused(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("BulkOperationRunQuery", {"bulkOperationRunQuery": {
        "bulkOperation": {"id": OPERATION, "status": "CREATED"}, "userErrors": []}})
    shop.data("BulkOperation", {"node": {"id": OPERATION, "status": "COMPLETED", "url": "http://evil.example/x"}})
    with pytest.raises(PlatformError, match="not https"):
        list(platform.run_bulk_orders(None))


def test_current_bulk_operation_reports_the_latest_one(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.data("CurrentBulkOperation", {"currentBulkOperation": {"id": OPERATION, "status": "RUNNING"}})
    shop.data("CurrentBulkOperation", {"currentBulkOperation": None})
    assert current_bulk_operation(client) == {"id": OPERATION, "status": "RUNNING"}
    assert current_bulk_operation(client) is None
