"""Query-root resolvers of the Shopify sandbox, including the small subset of Shopify search syntax it understands.

Search: space-separated `field:value` terms, `AND` between them (`OR` is read as `AND`, a simplification),
comparators `:>=`, `:>`, `:<=`, `:<`, values optionally quoted. Orders filter on `updated_at`, `created_at`,
`id`, `status` (open/closed/cancelled/any), `fulfillment_status` (unfulfilled/fulfilled/partial) and `tag`;
variants and inventory items on `sku` and `id`. Terms on other fields are ignored, as Shopify ignores
fields it does not know (it answers a search warning the sandbox leaves out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo

from sandbox.shopify.model import BulkOperation, Order, Variant, parse_gid, parse_time
from sandbox.shopify.state import ShopifyState
from sandbox.shopify.views import View, Views, by_id, connection, requesting_app

if TYPE_CHECKING:
    from sandbox.shopify.bulk import BulkRunner

_TERM = re.compile(r"""(?P<neg>-)?(?P<field>[a-z_]+):(?P<op><=|>=|<|>|=)?(?P<value>'[^']*'|"[^"]*"|\S+)""")


def parse_search(query: str | None) -> list[tuple[bool, str, str, str]]:
    """(negated, field, comparator, value) for each term of a Shopify search string."""
    if not query:
        return []
    return [(bool(m["neg"]), m["field"], m["op"] or "=", m["value"].strip("'\""))
            for m in _TERM.finditer(query)]


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    return {"=": actual == wanted, ">": actual > wanted, ">=": actual >= wanted,
            "<": actual < wanted, "<=": actual <= wanted}[op]


def _time_term(moment: datetime | None, op: str, value: str) -> bool:
    if moment is None:
        return False
    try:
        wanted = parse_time(value)
    except ValueError:
        raise GraphQLError(f"Invalid date in search query: {value!r}", extensions={"code": "BAD_REQUEST"}) from None
    return _compare(moment.replace(microsecond=0), op, wanted)


def _order_matches(order: Order, terms: list[tuple[bool, str, str, str]]) -> bool:
    for negated, field, op, value in terms:
        if field in ("updated_at", "created_at", "processed_at"):
            moment = order.updated_at if field == "updated_at" else order.created_at
            hit = _time_term(moment, op, value)
        elif field == "id":
            hit = value.isdigit() and _compare(order.id, op, int(value))
        elif field == "status":
            hit = {"open": not order.closed and order.cancelled_at is None, "closed": order.closed,
                   "cancelled": order.cancelled_at is not None}.get(value.lower(), True)
        elif field == "fulfillment_status":
            hit = {"unfulfilled": order.fulfillment_status in ("UNFULFILLED", "ON_HOLD"),
                   "fulfilled": order.fulfillment_status == "FULFILLED",
                   "shipped": order.fulfillment_status == "FULFILLED",
                   "partial": order.fulfillment_status == "PARTIALLY_FULFILLED"}.get(value.lower(), True)
        elif field == "tag":
            hit = value.lower() in (tag.lower() for tag in order.tags)
        else:
            continue
        if hit == negated:
            return False
    return True


def _variant_matches(variant: Variant, terms: list[tuple[bool, str, str, str]], item_ids: bool = False) -> bool:
    for negated, field, op, value in terms:
        if field == "sku":
            hit = (variant.sku or "") == value
        elif field == "id":
            number = variant.inventory_item_id if item_ids else variant.id
            hit = value.isdigit() and _compare(number, op, int(value))
        else:
            continue
        if hit == negated:
            return False
    return True


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


ORDER_SORT_KEYS: dict[str, Callable[[Order], tuple[Any, ...]]] = {
    "UPDATED_AT": lambda o: (_timestamp(o.updated_at), o.id),
    "CREATED_AT": lambda o: (_timestamp(o.created_at), o.id),
    "PROCESSED_AT": lambda o: (_timestamp(o.created_at), o.id),
    "ID": lambda o: (o.id,),
    "ORDER_NUMBER": lambda o: (o.id,),
}


def granted(info: GraphQLResolveInfo) -> frozenset[str] | None:
    """The requesting token's scopes (None: not a token-checked request, such as the sandbox's own)."""
    scopes = info.context.get("scopes") if isinstance(info.context, dict) else None
    return scopes if isinstance(scopes, frozenset) else None


def has_scope(scopes: frozenset[str] | None, scope: str) -> bool:
    if scopes is None or scope in scopes:
        return True
    return scope.startswith("read_") and "write_" + scope[len("read_"):] in scopes


def require_scope(info: GraphQLResolveInfo, field: str, *alternatives: str) -> None:
    """Shopify's answer to a field the token's scopes do not cover: ACCESS_DENIED, the field null."""
    scopes = granted(info)
    if any(has_scope(scopes, scope) for scope in alternatives):
        return
    needed = " or ".join(f"`{scope}`" for scope in alternatives)
    raise GraphQLError(f"Access denied for {field} field. Required access: {needed} access scope.",
                       extensions={"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes"})


def require_gid(value: str, *kinds: str) -> int | None:
    """The number of a gid of one of `kinds`; None for a well-formed gid of another type; error when malformed."""
    parsed = parse_gid(value)
    if parsed is None:
        raise GraphQLError(f"Invalid global id '{value}'",
                           extensions={"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"})
    kind, number = parsed
    return number if kind in kinds else None


class QueryRoot:
    """The fields of `QueryRoot` the sandbox answers; others resolve to null (and fail if non-null)."""

    def __init__(self, state: ShopifyState, views: Views, bulk: BulkRunner | None = None) -> None:
        self.state = state
        self.views = views
        self.bulk = bulk

    def fields(self) -> dict[str, Any]:
        return {
            "shop": lambda info: {"__typename": "Shop", "id": "gid://shopify/Shop/1", "name": self.state.shop_name,
                                  "myshopifyDomain": self.state.shop, "currencyCode": "USD", "ianaTimezone": "UTC",
                                  "email": f"owner@{self.state.shop}"},
            "orders": self.orders,
            "order": lambda info, id: self._order_view(require_gid(id, "Order"), info),
            "productVariants": self.product_variants,
            "productVariant": lambda info, id: self.node_view(id, info),
            "inventoryItems": self.inventory_items,
            "inventoryItem": lambda info, id: self.node_view(id, info),
            "fulfillmentOrder": lambda info, id: self.node_view(id, info),
            "locations": lambda info, query=None, sortKey=None, includeLegacy=None, includeInactive=None, **page:
                connection(info, self.state.locations, self.views.location, by_id, **page),
            "location": lambda info, id=None: self.node_view(id, info) if id else self.views.location(self.state.locations[0]),
            "node": lambda info, id: self.node_view(id, info),
            "nodes": lambda info, ids: [self.node_view(one, info) for one in ids],
            "webhookSubscriptions": self.webhook_subscriptions,
            "currentBulkOperation": lambda info, type="QUERY": self._current_bulk(info),
            "bulkOperation": lambda info, id: self._bulk_view(require_gid(id, "BulkOperation"), info),
            "bulkOperations": self.bulk_operations,
            "currentAppInstallation": lambda info: {
                "__typename": "AppInstallation", "id": "gid://shopify/AppInstallation/1",
                "accessScopes": [{"__typename": "AccessScope", "handle": scope, "description": scope}
                                 for scope in sorted(granted(info) or ())]},
        }

    def _order_view(self, number: int | None, info: GraphQLResolveInfo | None = None) -> View | None:
        order = self.state.orders.get(number or -1)
        if order is None or (info is not None and not self.state.readable(order, granted(info))):
            return None  # older than 60 days without read_all_orders: invisible, like a missing order
        return self.views.order(order)

    def orders(self, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "PROCESSED_AT",
               savedSearchId: str | None = None, **page: Any) -> View:
        require_scope(info, "orders", "read_orders")
        terms = parse_search(query)
        scopes = granted(info)
        matching = [o for o in self.state.orders.values() if _order_matches(o, terms) and self.state.readable(o, scopes)]
        key = ORDER_SORT_KEYS.get(sortKey, ORDER_SORT_KEYS["ID"])
        return connection(info, matching, self.views.order, key, **page)

    def product_variants(self, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "ID",
                         savedSearchId: str | None = None, **page: Any) -> View:
        terms = parse_search(query)
        matching = [v for v in self.state.variants.values() if _variant_matches(v, terms)]
        key: Callable[[Variant], tuple[Any, ...]] = (lambda v: (v.sku or "", v.id)) if sortKey == "SKU" else by_id
        return connection(info, matching, self.views.variant, key, **page)

    def inventory_items(self, info: GraphQLResolveInfo, query: str | None = None, **page: Any) -> View:
        require_scope(info, "inventoryItems", "read_inventory")
        terms = parse_search(query)
        matching = [v for v in self.state.variants.values() if _variant_matches(v, terms, item_ids=True)]
        return connection(info, matching, self.views.inventory_item, lambda v: (v.inventory_item_id,), **page)

    def webhook_subscriptions(self, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "CREATED_AT",
                              uri: str | None = None, format: str | None = None,
                              topics: list[str] | None = None, **page: Any) -> View:
        matching = [s for s in self.state.subscriptions.values()
                    if (uri is None or s.uri == uri)
                    and (format is None or s.format == format) and (not topics or s.topic in topics)]
        return connection(info, matching, self.views.subscription, by_id, **page)

    # -- bulk operations: each status read moves a running one along --------------------------------

    def _bulk_view(self, number: int | None, info: GraphQLResolveInfo) -> View | None:
        op = self.state.bulk_operations.get(number or -1)
        if op is None or op.app not in (requesting_app(info), ""):
            return None
        if self.bulk is not None:
            self.bulk.advance(op)
        return self.views.bulk_operation(op)

    def _current_bulk(self, info: GraphQLResolveInfo) -> View | None:
        mine = [op_id for op_id, op in self.state.bulk_operations.items() if op.app in (requesting_app(info), "")]
        return self._bulk_view(max(mine), info) if mine else None

    def bulk_operations(self, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "CREATED_AT",
                        reverse: bool = False, **page: Any) -> View:
        """The app's bulk operations, newest first; `status:` and `operation_type:` terms filter."""
        terms = parse_search(query)
        app = requesting_app(info)

        def matches(op: BulkOperation) -> bool:
            for negated, field, _op, value in terms:
                hit = (op.status.lower() == value.lower() if field == "status"
                       else value.lower() == "query" if field == "operation_type" else True)
                if hit == negated:
                    return False
            return True

        chosen = [op for op in self.state.bulk_operations.values() if op.app in (app, "")]
        if self.bulk is not None:
            for op in chosen:
                self.bulk.advance(op)
        chosen = [op for op in chosen if matches(op)]
        return connection(info, chosen, self.views.bulk_operation, lambda op: (-op.id,), reverse=reverse, **page)

    def node_view(self, value: str, info: GraphQLResolveInfo | None = None) -> View | None:
        """Any record the sandbox keeps, by global id; None when there is no such record."""
        parsed = parse_gid(value)
        if parsed is None:
            require_gid(value)
        kind, number = parsed  # type: ignore[misc]
        state, views = self.state, self.views
        if kind == "Order":
            return self._order_view(number, info)
        if kind == "LineItem":
            line = next((li for o in state.orders.values() for li in o.lines if li.id == number), None)
            return views.line_item(line) if line else None
        if kind == "ProductVariant":
            variant = state.variants.get(number)
            return views.variant(variant) if variant else None
        if kind == "InventoryItem":
            variant = state.variant_by_item(number)
            return views.inventory_item(variant) if variant else None
        if kind == "Location":
            location = next((loc for loc in state.locations if loc.id == number), None)
            return views.location(location) if location else None
        if kind == "FulfillmentOrder":
            fo = state.find_fulfillment_order(number)
            if fo is None or (info is not None and not state.readable(state.orders[fo.order_id], granted(info))):
                return None
            return views.fulfillment_order(fo)
        if kind == "WebhookSubscription":
            sub = state.subscriptions.get(number)
            return views.subscription(sub) if sub else None
        if kind == "BulkOperation":
            if info is not None:
                return self._bulk_view(number, info)
            op = state.bulk_operations.get(number)
            return views.bulk_operation(op) if op else None
        return None
