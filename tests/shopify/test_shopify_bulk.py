"""Bulk order export: ungrouped output joined by __parentId, the lifecycle (busy, adopted, failed, partial,
webhook or polling), and the paged fallback."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime

import pytest
import responses
from shopify_support import TOKEN, FakeShopify, FakeTime, line_node, order_node, page

from connector.errors import InputError, PlatformError
from connector.platforms.shopify import documents
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.bulk import BulkPolicy, BulkUnavailable, orders_from_store, staged_rows, _Tally
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.staging import MemoryExportStore

RESULT_URL = "https://storage.googleapis.com/shopify-tiers-assets/bulk/result.jsonl?X-Goog-Signature=abc"
PARTIAL_URL = "https://storage.googleapis.com/shopify-tiers-assets/bulk/partial.jsonl?X-Goog-Signature=def"
OPERATION = "gid://shopify/BulkOperation/42"
OTHER = "gid://shopify/BulkOperation/41"
ALL_ORDERS = documents.bulk_orders_query(None)


def _records() -> list[dict]:
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


def _shuffled(records: list[dict], seed: int) -> list[dict]:
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def _assemble(store: MemoryExportStore, lines: list[str]) -> list[tuple[str, list[str]]]:
    tally = _Tally()
    store.stage("op", staged_rows(lines, tally))
    return [(o.platform_id, [line.platform_id for line in o.lines]) for o in orders_from_store(store, "op", tally)]


def test_children_before_or_after_their_order_are_joined_to_it() -> None:
    records = _records()
    before_and_after = [records[1], records[0], records[3], records[4], records[2], records[5]]
    positions = {r["id"]: i for i, r in enumerate(before_and_after)}
    assert positions["gid://shopify/LineItem/11"] < positions["gid://shopify/Order/1"] < positions["gid://shopify/LineItem/12"]
    joined = _assemble(MemoryExportStore(), _jsonl(before_and_after).splitlines())
    assert sorted(joined) == [("1", ["11", "12"]), ("2", []), ("3", ["31"])]


@pytest.mark.parametrize("seed", range(5))
def test_any_shuffle_gives_the_same_orders_as_the_grouped_file(seed: int) -> None:
    grouped = _assemble(MemoryExportStore(), _jsonl(_records()).splitlines())
    assert sorted(_assemble(MemoryExportStore(), _jsonl(_shuffled(_records(), seed)).splitlines())) == sorted(grouped)


def test_a_broken_line_is_refused_with_its_number() -> None:
    with pytest.raises(InputError, match="line 2"):
        _assemble(MemoryExportStore(), [json.dumps(_records()[0]), "{not json"])


def test_a_line_item_whose_order_is_missing_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    records = _records() + [{**line_node(99), "__parentId": "gid://shopify/Order/404"}]
    with caplog.at_level(logging.WARNING):
        joined = _assemble(MemoryExportStore(), _jsonl(records).splitlines())
    assert len(joined) == 3
    assert "1 line items in the bulk result name no order in it" in caplog.text


# -- the lifecycle, against a scripted store ----------------------------------------------------


def _started(status: str = "CREATED") -> dict:
    return {"bulkOperationRunQuery": {"bulkOperation": {"id": OPERATION, "status": status, "query": ALL_ORDERS},
                                      "userErrors": []}}


def _refused(code: str, message: str = "A bulk query operation for this app and shop is already in progress") -> dict:
    return {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
        {"field": None, "message": message, "code": code}]}}


def _operation(status: str, *, url: str | None = None, op: str = OPERATION, query: str = ALL_ORDERS,
               partial: str | None = None, error: str | None = None) -> dict:
    return {"id": op, "status": status, "url": url, "partialDataUrl": partial, "errorCode": error, "query": query,
            "objectCount": "6", "rootObjectCount": "3", "createdAt": "2026-12-01T10:00:00Z"}


def _poll(shop: FakeShopify, *operations: dict) -> None:
    for operation in operations:
        shop.data("BulkOperation", {"bulkOperation": operation})


def _paged(shop: FakeShopify) -> None:
    shop.data("OrdersPage", {"orders": page([order_node(7)])})


def test_run_polls_quickly_then_streams_the_result(platform: ShopifyPlatform, shop: FakeShopify,
                                                   rsps: responses.RequestsMock, fake_time: FakeTime) -> None:
    shop.data("BulkOperationRunQuery", _started())
    _poll(shop, *[_operation("RUNNING")] * 5, _operation("COMPLETED", url=RESULT_URL))
    rsps.add(responses.GET, RESULT_URL, body=_jsonl(_shuffled(_records(), 3)))
    orders = list(platform.run_bulk_orders(datetime(2026, 1, 1, tzinfo=UTC), poll_interval=3.0))
    assert sorted(order.platform_id for order in orders) == ["1", "2", "3"]
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0, 3.0]  # quick at first, then every poll_interval
    started = shop.calls[0]
    assert started.variables == {"query": documents.bulk_orders_query("updated_at:>='2026-01-01T00:00:00Z'")}
    assert "groupObjects: false" in started.query  # never the slower grouped output
    assert "bulkOperation(id: $id)" in shop.calls[1].query
    download = rsps.calls[-1].request
    assert download.req_kwargs["stream"] is True
    assert "X-Shopify-Access-Token" not in download.headers and TOKEN not in str(download.headers)


def test_an_operation_that_matched_nothing_yields_nothing(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("BulkOperationRunQuery", _started())
    _poll(shop, _operation("COMPLETED"))
    assert list(platform.run_bulk_orders(None)) == []


@pytest.mark.parametrize("status", ["FAILED", "CANCELED", "EXPIRED"])
def test_an_operation_that_did_not_complete_falls_back_to_paging_with_one_warning(
        platform: ShopifyPlatform, shop: FakeShopify, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture,
        status: str) -> None:
    shop.data("BulkOperationRunQuery", _started())
    _poll(shop, _operation(status, error="TIMEOUT" if status == "FAILED" else None, partial=PARTIAL_URL))
    _paged(shop)
    with caplog.at_level(logging.WARNING):
        orders = list(platform.iter_all_orders())
    assert [order.platform_id for order in orders] == ["7"]
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1 and f"bulk operation ended {status}" in warnings[0].getMessage()
    assert "partial result is not used" in warnings[0].getMessage()
    assert not [call for call in rsps.calls if call.request.method == "GET"]  # the partial file is never read


def test_a_refused_bulk_query_falls_back_to_paging(platform: ShopifyPlatform, shop: FakeShopify,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    shop.data("BulkOperationRunQuery", _refused("INVALID", "Bulk queries cannot contain more than 5 connections."))
    _paged(shop)
    with caplog.at_level(logging.WARNING):
        assert [order.platform_id for order in platform.iter_all_orders()] == ["7"]
    assert "the store refused the bulk query" in caplog.text
    assert shop.ops() == ["BulkOperationRunQuery", "OrdersPage"]


def test_a_failed_operation_raises_for_callers_that_want_bulk_only(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("BulkOperationRunQuery", _started())
    _poll(shop, _operation("FAILED", error="ACCESS_DENIED"))
    with pytest.raises(BulkUnavailable, match="FAILED") as caught:
        list(platform.run_bulk_orders(None))
    assert caught.value.code == "ACCESS_DENIED"


@pytest.mark.parametrize("code", ["OPERATION_IN_PROGRESS", "LIMIT_REACHED"])
def test_busy_with_our_own_query_adopts_it(platform: ShopifyPlatform, shop: FakeShopify, rsps: responses.RequestsMock,
                                           code: str) -> None:
    shop.data("BulkOperationRunQuery", _refused(code))
    shop.data("BulkOperations", {"bulkOperations": {"nodes": [
        _operation("RUNNING", op=OTHER, query="{ products { edges { node { id } } } }"),
        _operation("RUNNING", query=" ".join(ALL_ORDERS.split()))]}})  # the same document, spaced differently
    _poll(shop, _operation("COMPLETED", url=RESULT_URL))
    rsps.add(responses.GET, RESULT_URL, body=_jsonl(_records()))
    assert len(list(platform.run_bulk_orders(None))) == 3
    assert shop.ops() == ["BulkOperationRunQuery", "BulkOperations", "BulkOperation"]
    assert shop.calls[2].variables == {"id": OPERATION}
    assert platform.exports.pending() is None  # read, so no later run adopts it again


def test_busy_with_other_queries_waits_for_them_then_starts(platform: ShopifyPlatform, shop: FakeShopify,
                                                            rsps: responses.RequestsMock, fake_time: FakeTime) -> None:
    others = {"bulkOperations": {"nodes": [_operation("RUNNING", op=OTHER, query="{ products { edges { node { id } } } }")]}}
    shop.data("BulkOperationRunQuery", _refused("LIMIT_REACHED", "5 bulk queries are already running"))
    shop.data("BulkOperations", others)
    shop.data("BulkOperations", others)
    shop.data("BulkOperations", {"bulkOperations": {"nodes": [_operation("COMPLETED", op=OTHER)]}})
    shop.data("BulkOperationRunQuery", _started())
    _poll(shop, _operation("COMPLETED", url=RESULT_URL))
    rsps.add(responses.GET, RESULT_URL, body=_jsonl(_records()))
    assert len(list(platform.run_bulk_orders(None))) == 3
    assert shop.ops() == ["BulkOperationRunQuery", "BulkOperations", "BulkOperations", "BulkOperations",
                          "BulkOperationRunQuery", "BulkOperation"]
    assert fake_time.sleeps == [0.25, 0.5]


def test_busy_for_longer_than_the_limit_falls_back_to_paging(client: ShopifyClient, shop: FakeShopify,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    platform = ShopifyPlatform(client, bulk_policy=BulkPolicy(poll_interval=5.0, busy_wait=10.0))
    shop.data("BulkOperationRunQuery", _refused("OPERATION_IN_PROGRESS"))
    for _ in range(10):
        shop.data("BulkOperations", {"bulkOperations": {"nodes": [_operation("RUNNING", op=OTHER, query="{ x }")]}})
    _paged(shop)
    with caplog.at_level(logging.WARNING):
        assert [order.platform_id for order in platform.iter_all_orders()] == ["7"]
    assert "other bulk queries still hold the shop after 10s" in caplog.text


def test_a_pending_export_is_adopted_instead_of_starting_another(platform: ShopifyPlatform, shop: FakeShopify,
                                                                 rsps: responses.RequestsMock) -> None:
    platform.exports.remember(OPERATION)  # a run died while waiting; the finish webhook came meanwhile
    shop.data("BulkOperation", {"bulkOperation": _operation("COMPLETED", url=RESULT_URL)})
    rsps.add(responses.GET, RESULT_URL, body=_jsonl(_records()))
    assert len(list(platform.iter_all_orders())) == 3
    assert shop.ops() == ["BulkOperation"]  # no bulkOperationRunQuery


def test_a_recorded_finish_webhook_makes_the_next_poll_immediate(platform: ShopifyPlatform, shop: FakeShopify,
                                                                 rsps: responses.RequestsMock, fake_time: FakeTime) -> None:
    store = platform.exports
    assert isinstance(store, MemoryExportStore)
    shop.data("BulkOperationRunQuery", _started())
    shop.data("BulkOperation", {"bulkOperation": _operation("RUNNING")})

    def finished_meanwhile(_variables: dict) -> dict:
        return {"bulkOperation": _operation("COMPLETED", url=RESULT_URL)}

    shop.data("BulkOperation", {"bulkOperation": _operation("RUNNING")})
    shop.handler("BulkOperation", finished_meanwhile)
    rsps.add(responses.GET, RESULT_URL, body=_jsonl(_records()))
    original_sleep = fake_time.sleep

    def sleep(seconds: float) -> None:
        original_sleep(seconds)
        store.mark_finished(OPERATION)  # the webhook arrives during the first pause

    client = platform.client
    client._sleep = sleep  # type: ignore[attr-defined]
    assert len(list(platform.run_bulk_orders(None))) == 3
    assert fake_time.sleeps == [0.25]  # the second poll did not wait


def test_a_result_url_that_is_not_https_is_refused(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("BulkOperationRunQuery", _started())
    _poll(shop, _operation("COMPLETED", url="http://evil.example/x"))
    with pytest.raises(PlatformError, match="not https"):
        list(platform.run_bulk_orders(None))
