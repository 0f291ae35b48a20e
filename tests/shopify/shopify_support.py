"""Test doubles for the Shopify client: a scripted Admin GraphQL endpoint and a fake clock."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import responses

from connector.platforms.base import ShopAccess
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.shopify.cost import MAX_QUERY_COST, operation_name, requested_cost

DOMAIN = "test-shop.myshopify.com"
TOKEN = "shpat_0123456789abcdef_TOKEN"
API = f"https://{DOMAIN}/admin/api/2026-10/graphql.json"

Reply = Callable[[dict[str, Any]], tuple[int, dict[str, str], Any]] | tuple[int, dict[str, str], Any]


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@dataclass
class Call:
    operation: str
    query: str
    variables: dict[str, Any]
    headers: dict[str, str]


class FakeShopify:
    """Answers GraphQL POSTs from per-operation queues; checks every request's cost on the way."""

    def __init__(self, rsps: responses.RequestsMock, url: str = API) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.calls: list[Call] = []
        rsps.add_callback(responses.POST, url, callback=self._handle)

    def data(self, operation: str, data: dict[str, Any], *, cost: dict[str, Any] | None = None) -> None:
        body: dict[str, Any] = {"data": data}
        if cost:
            body["extensions"] = {"cost": cost}
        self.replies[operation].append((200, {}, body))

    def raw(self, operation: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.replies[operation].append((status, headers or {}, body))

    def fail(self, operation: str, error: Exception) -> None:
        self.replies[operation].append(lambda _variables: (_ for _ in ()).throw(error))

    def handler(self, operation: str, func: Callable[[dict[str, Any]], dict[str, Any]], times: int = 1) -> None:
        for _ in range(times):
            self.replies[operation].append(lambda variables: (200, {}, {"data": func(variables)}))

    def ops(self) -> list[str]:
        return [call.operation for call in self.calls]

    def _handle(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body or b"{}")
        name = operation_name(payload["query"])
        variables = payload.get("variables") or {}
        cost = requested_cost(payload["query"], variables)
        assert cost <= MAX_QUERY_COST, f"{name} requests {cost} points"
        self.calls.append(Call(name, payload["query"], variables, dict(request.headers)))
        if not self.replies[name]:
            raise AssertionError(f"unexpected {name} {variables}")
        reply = self.replies[name].popleft()
        status, headers, body = reply(variables) if callable(reply) else reply
        return status, headers, body if isinstance(body, str) else json.dumps(body)


def make_client(time: FakeTime, **kwargs: Any) -> ShopifyClient:
    access = kwargs.pop("access", None) or ShopAccess(platform="shopify", domain=DOMAIN, access_token=TOKEN)
    kwargs.setdefault("jitter", lambda delay: delay)
    return ShopifyClient(access, sleep=time.sleep, clock=time.clock, **kwargs)


def throttle(available: float, restore: float = 50.0, maximum: float = 1000.0,
             requested: float = 10.0) -> dict[str, Any]:
    return {"requestedQueryCost": requested, "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": restore}}


def throttled_body(requested: float, available: float, restore: float) -> dict[str, Any]:
    return {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": available,
                                                   "restoreRate": restore}}},
    }


def page(nodes: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    """A connection page; `cursor` set means there is another page after it."""
    return {"pageInfo": {"hasNextPage": cursor is not None, "endCursor": cursor}, "nodes": nodes}


def line_node(number: int, sku: str | None = "SKU-1", *, variant: bool = True, quantity: int = 2,
              unfulfilled: int | None = None) -> dict[str, Any]:
    return {"id": f"gid://shopify/LineItem/{number}", "sku": sku, "title": f"Item {number}", "quantity": quantity,
            "currentQuantity": quantity, "unfulfilledQuantity": quantity if unfulfilled is None else unfulfilled,
            "requiresShipping": True, "variant": {"id": f"gid://shopify/ProductVariant/{number}0"} if variant else None}


def order_node(number: int, lines: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    node = {
        "id": f"gid://shopify/Order/{number}", "name": f"#{number}", "createdAt": "2026-10-01T10:00:00Z",
        "updatedAt": "2026-10-02T11:30:00Z", "cancelledAt": None, "closed": False,
        "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "UNFULFILLED",
        "email": "ada@example.com", "customerLocale": "en-GB",
        "customer": {"id": "gid://shopify/Customer/77", "firstName": "Ada", "lastName": "Lovelace",
                     "displayName": "Ada Lovelace"},
        "lineItems": lines if lines is not None else page([line_node(number * 10)]),
    }
    node.update(fields)
    return node
