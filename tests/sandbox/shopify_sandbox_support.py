"""Shared seed, clock and request helpers for the Shopify sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sandbox.common import FaultPlan
from sandbox.shopify import ShopifyState, create_app, sandbox_of

SECRET = "sandbox-secret"
TOKEN = "shpat_test_token"
GRAPHQL = "/admin/api/2026-10/graphql.json"
EXAMPLE_SEED = Path(__file__).resolve().parents[2] / "examples" / "sandbox" / "shopify_seed.json"
LOCATION = 70001
ITEM_SHIRT, ITEM_MUG = 9_007_199_254_740_993, 9_007_199_254_740_995  # past 2^53, like real inventory item ids


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def small_seed() -> dict[str, Any]:
    orders = []
    for n in range(5):
        orders.append({
            "id": 5000 + n, "name": f"#{1001 + n}", "createdAt": f"2026-11-0{n + 1}T10:00:00Z",
            "updatedAt": f"2026-11-{20 - n}T10:00:00Z",  # the oldest order was updated last
            "customer": {"id": 400 + n, "firstName": f"Buyer{n}", "email": f"b{n}@example.com", "locale": "fr"},
            "note": "Ring the bell" if n == 0 else None, "tags": ["vip"] if n == 0 else [],
            "lineItems": [{"id": 6000 + 2 * n, "sku": "SHIRT-BLUE-M", "quantity": 2},
                          {"id": 6001 + 2 * n, "sku": "MUG-RED", "quantity": 1}]})
    return {
        "shop": "sandbox-test.myshopify.com",
        "locations": [{"id": LOCATION, "name": "Main"}],
        "products": [
            {"id": 800, "title": "Shirt", "variants": [{
                "id": 900, "sku": "SHIRT-BLUE-M", "title": "Blue / M", "inventoryItemId": ITEM_SHIRT,
                "inventoryPolicy": "CONTINUE",
                "inventoryLevels": [{"locationId": LOCATION, "quantities": {"available": -3, "committed": 10}}]}]},
            {"id": 801, "title": "Mug", "variants": [{
                "id": 901, "sku": "MUG-RED", "inventoryItemId": ITEM_MUG, "tracked": False}]},
        ],
        "orders": orders,
    }


def make_app(clock: FakeClock, **options: Any) -> Flask:
    """A sandbox over `small_seed()` with the test token, driven by `clock`."""
    return create_app(ShopifyState.from_seed(small_seed()), api_secret=SECRET, access_token=TOKEN, clock=clock,
                      faults=FaultPlan(seed=7), **options)


def gql(client: Any, query: str, variables: dict[str, Any] | None = None, token: str = TOKEN) -> dict[str, Any]:
    answer = client.post(GRAPHQL, json={"query": query, "variables": variables or {}},
                         headers={"X-Shopify-Access-Token": token})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def order_query(fields: str) -> str:
    return f'query($id: ID!) {{ order(id: $id) {{ {fields} }} }}'


ORDER_1 = "gid://shopify/Order/5000"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Iterator[Flask]:
    application = make_app(clock)
    yield application
    sandbox_of(application).webhooks.close()
