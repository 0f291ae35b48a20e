"""WooCommerce cancel and refund against the sandbox store: amounts with tax and shipping, restock, refusals, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import RefundRefused
from connector.platforms.base import CancelLine, CancelRequest, ShopAccess
from connector.platforms.woocommerce.adapter import WooPlatform
from connector.platforms.woocommerce.client import WooClient
from sandbox.common import ServerThread
from sandbox.woocommerce import WooState

KEY, SECRET = "ck_" + "c4nc" * 10, "cs_" + "e1ed" * 10


def seed() -> dict[str, Any]:
    reduced = [{"key": "_reduced_stock", "value": "2"}]
    return {"site_title": "Cancel kitchen", "currency": "EUR", "tax_rate_percent": 19,
            "api_keys": [{"key_id": 1, "user_id": 1, "consumer_key": KEY, "consumer_secret": SECRET,
                          "permissions": "read_write"}],
            "products": [
                {"id": 10, "name": "Kettle", "type": "simple", "sku": "K-1", "price": "40.00", "manage_stock": True,
                 "stock_quantity": -4, "backorders": "notify", "stock_status": "onbackorder",
                 "date_created_gmt": "2026-01-01T09:00:00"},
                {"id": 11, "name": "Cup", "type": "simple", "sku": "C-1", "price": "8.00", "manage_stock": True,
                 "stock_quantity": 30, "backorders": "no", "stock_status": "instock",
                 "date_created_gmt": "2026-01-01T09:00:00"}],
            "orders": [
                {"id": 501, "status": "processing", "date_created_gmt": "2026-03-02T09:00:00", "shipping_total": 4.9,
                 "payment_method": "stripe", "billing": {"email": "lea@example.com"},
                 "line_items": [{"id": 5011, "product_id": 10, "quantity": 2, "meta_data": reduced},
                                {"id": 5012, "product_id": 11, "quantity": 1,
                                 "meta_data": [{"key": "_reduced_stock", "value": "1"}]}]},
                {"id": 502, "status": "processing", "date_created_gmt": "2026-03-02T10:00:00", "shipping_total": 4.9,
                 "payment_method": "stripe", "billing": {"email": "tom@example.com"},
                 "line_items": [{"id": 5021, "product_id": 10, "quantity": 2, "meta_data": reduced}]},
                {"id": 503, "status": "processing", "date_created_gmt": "2026-03-02T11:00:00",
                 "payment_method": "bacs", "billing": {"email": "ines@example.com"},
                 "line_items": [{"id": 5031, "product_id": 10, "quantity": 1,
                                 "meta_data": [{"key": "_reduced_stock", "value": "1"}]}]}]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[ServerThread, WooPlatform]]:
    from sandbox.woocommerce import run

    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed()))
    server = run(0, path)
    client = WooClient(ShopAccess(platform="woocommerce", domain=server.url, api_url=f"{server.url}/wp-json/wc/v3/",
                                  consumer_key=KEY, consumer_secret=SECRET), sleep=lambda _s: None)
    platform = WooPlatform(client)
    yield server, platform
    platform.close()
    server.stop()


def state_of(server: ServerThread) -> WooState:
    from sandbox.woocommerce.app import sandbox_of

    return sandbox_of(server.app).state


def test_partial_cancel_refunds_only_the_backordered_line_with_its_tax(store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = store
    outcome = platform.cancel_units("501", CancelRequest((CancelLine("5011", 2),), False, "bc:m-501"))
    assert (outcome.amount, outcome.currency, outcome.already_done) == ("95.20", "EUR", False)  # 2 × 40 + 19 % tax
    state = state_of(server)
    order = state.orders[501]
    assert [(r.amount, [(p.item_id, p.quantity, p.total, p.tax) for p in r.lines]) for r in order.refunds] == [
        (95.2, [(5011, 2, 80.0, 15.2)])]
    assert order.status == "processing"  # the cup still ships; shipping is not refunded
    assert state.products[10].stock_quantity == -2  # restocked: two fewer units owed
    remote = platform.get_order("501")
    assert remote is not None and [(line.platform_id, line.quantity) for line in remote.lines] == [("5011", 0), ("5012", 1)]


def test_whole_order_cancel_refunds_shipping_and_sets_cancelled_without_double_restock(
        store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = store
    outcome = platform.cancel_units("502", CancelRequest((CancelLine("5021", 2),), True, "bc:m-502"))
    assert outcome.amount == "101.03"  # 80 + 15.20 tax + 4.90 shipping + 0.93 shipping tax
    state = state_of(server)
    assert state.orders[502].status == "cancelled"
    assert state.products[10].stock_quantity == -2  # back once, by the refund, not again by the cancel
    remote = platform.get_order("502")
    assert remote is not None and not remote.is_open


def test_gateway_refusal_raises_with_the_gateways_words(store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = store
    with pytest.raises(RefundRefused, match="does not support automatic refunds"):
        platform.cancel_units("503", CancelRequest((CancelLine("5031", 1),), True, "bc:m-503"))
    state_of(server).gateway_refusals[501] = "Stripe: the card's account is closed"
    with pytest.raises(RefundRefused) as refused:
        platform.cancel_units("501", CancelRequest((CancelLine("5011", 2),), False, "bc:m-501"))
    assert str(refused.value) == "Stripe: the card's account is closed"
    assert state_of(server).orders[501].refunds == [] and state_of(server).orders[503].status == "processing"


def test_a_repeat_after_a_crash_finds_the_refund_by_its_marker(store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = store
    request = CancelRequest((CancelLine("5021", 2),), True, "bc:m-502")
    first = platform.cancel_units("502", request)
    again = platform.cancel_units("502", request)  # the worker died before recording the first
    assert again.already_done and (again.refund_id, again.amount) == (first.refund_id, first.amount)
    assert len(state_of(server).orders[502].refunds) == 1
