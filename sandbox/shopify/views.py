"""GraphQL-shaped views of the sandbox's records: dicts graphql-core's default resolver reads, callables for fields with arguments."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLResolveInfo

from sandbox.shopify.model import (
    BulkOperation,
    FulfillmentOrder,
    Hold,
    LineItem,
    Location,
    Metafield,
    Order,
    Refund,
    Variant,
    WebhookSubscription,
    app_namespace,
    gid,
    iso,
)
from sandbox.shopify.state import ShopifyState

T = TypeVar("T")
View = dict[str, Any]

HOLD_REASON_TEXT = {"INVENTORY_OUT_OF_STOCK": "Inventory out of stock", "UNKNOWN_DELIVERY_DATE": "Unknown delivery date"}
PROTECTED_DATA_DOCS = "https://shopify.dev/docs/apps/launch/protected-customer-data"
REDACTED_NAME = "•••"
MAX_HOLDS_PER_APP = 10


def contact_denied(info: GraphQLResolveInfo) -> bool:
    """Whether this request's app is refused protected customer data (names, emails, phones, addresses)."""
    return bool(isinstance(info.context, dict) and info.context.get("protected_denied"))


def requesting_app(info: GraphQLResolveInfo) -> str:
    return str(info.context.get("app", "")) if isinstance(info.context, dict) else ""


def protected(value: Any) -> Callable[[GraphQLResolveInfo], Any]:
    """A protected customer field: null plus an ACCESS_DENIED error for an app without approval (in a bulk
    query, just null: a result file carries no errors)."""

    def resolve(info: GraphQLResolveInfo) -> Any:
        if not contact_denied(info):
            return value
        if is_bulk(info):
            return None
        raise GraphQLError("This app is not approved to access protected customer data. See "
                           f"{PROTECTED_DATA_DOCS} for more details.",
                           extensions={"code": "ACCESS_DENIED", "documentation": PROTECTED_DATA_DOCS})

    return resolve


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}",
                           extensions={"code": "BAD_REQUEST"}) from None


def is_bulk(info: GraphQLResolveInfo) -> bool:
    return bool(isinstance(info.context, dict) and info.context.get("bulk"))


def connection(info: GraphQLResolveInfo, items: Sequence[T], view: Callable[[T], View],
               key: Callable[[T], Sequence[Any]], *, first: int | None = None, after: str | None = None,
               last: int | None = None, before: str | None = None, reverse: bool = False, **_: Any) -> View:
    """A Relay connection over `items` sorted by `key`; cursors carry the sort key, so pages stay stable."""
    ordered = sorted(items, key=lambda item: list(key(item)), reverse=bool(reverse))
    if after:
        mark = decode_cursor(after)
        ordered = [i for i in ordered if (list(key(i)) < mark if reverse else list(key(i)) > mark)]
    if before:
        mark = decode_cursor(before)
        ordered = [i for i in ordered if (list(key(i)) > mark if reverse else list(key(i)) < mark)]
    has_next = has_previous = False
    if not is_bulk(info):
        if first is not None:
            has_next = len(ordered) > first
            ordered = ordered[:first]
        elif last is not None:
            has_previous = len(ordered) > last
            ordered = ordered[len(ordered) - last:] if last else []
    views = [view(item) for item in ordered]
    cursors = [encode_cursor(key(item)) for item in ordered]
    return {
        "edges": [{"cursor": c, "node": v} for c, v in zip(cursors, views, strict=True)],
        "nodes": views,
        "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": has_previous or bool(after),
                     "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None},
    }


def by_id(record: Any) -> tuple[int]:
    return (record.id,)


class Views:
    """Builds views of one state; every method returns a fresh dict (never shared between answers)."""

    def __init__(self, state: ShopifyState) -> None:
        self.state = state

    def location(self, location: Location) -> View:
        service = ({"__typename": "FulfillmentService", "id": gid("FulfillmentService", location.id),
                    "handle": location.name.lower().replace(" ", "-"), "serviceName": location.name}
                   if location.fulfillment_service else None)
        return {"__typename": "Location", "id": gid("Location", location.id), "name": location.name,
                "legacyResourceId": str(location.id), "isActive": True,
                "isFulfillmentService": location.fulfillment_service, "fulfillmentService": service}

    def order(self, order: Order) -> View:
        customer = order.customer
        return {
            "__typename": "Order", "id": gid("Order", order.id), "legacyResourceId": str(order.id),
            "name": order.name, "createdAt": iso(order.created_at), "updatedAt": iso(order.updated_at),
            "processedAt": iso(order.created_at), "cancelledAt": iso(order.cancelled_at), "closed": order.closed,
            "closedAt": iso(order.updated_at) if order.closed else None, "confirmed": True, "test": False,
            "displayFinancialStatus": order.financial_status, "displayFulfillmentStatus": order.fulfillment_status,
            "fullyPaid": order.financial_status == "PAID", "note": order.note, "tags": list(order.tags),
            "email": protected(order.email), "phone": protected(None),
            "customerLocale": order.locale,
            "customer": None if customer is None else {
                "__typename": "Customer", "id": gid("Customer", customer.id), "legacyResourceId": str(customer.id),
                "firstName": protected(customer.first_name), "lastName": protected(customer.last_name),
                "email": protected(customer.email), "locale": customer.locale,
                # never null: an app without access to the name sees "•••" (changelog, 2026-12)
                "displayName": lambda info, c=customer: REDACTED_NAME if contact_denied(info) else (
                    " ".join(filter(None, [c.first_name, c.last_name])) or (c.email or "")),
            },
            **self._metafield_fields(order, "ORDER"),
            "lineItems": lambda info, **page: connection(info, order.lines, lambda line: self.line_item(line), by_id, **page),
            "fulfillmentOrders": lambda info, displayable=None, query=None, **page: connection(
                info, order.fulfillment_orders, self.fulfillment_order, by_id, **page),
            **self._money(order),
        }

    def _money(self, order: Order) -> View:
        """The order's money fields: totals, transactions, refunds and the suggested refund."""
        from sandbox.shopify.refunds import (
            Pricing,
            bag,
            order_total,
            refunded,
            transaction_view,
        )

        currency = order.currency
        total = order_total(order)
        sale = transaction_view(order, order.sale_id, "SALE", total)

        def suggested(info: GraphQLResolveInfo, refundLineItems: list[dict[str, Any]] | None = None,
                      refundShipping: bool | None = None, shippingAmount: Any = None,
                      suggestFullRefund: bool = False, **_: Any) -> View:
            wanted = refundLineItems or []
            if suggestFullRefund:
                wanted = [{"lineItemId": gid("LineItem", line.id), "quantity": line.current, "restockType": "NO_RESTOCK"}
                          for line in order.lines if line.current > 0]
            pricing = Pricing(order, wanted, bool(refundShipping or suggestFullRefund))
            if pricing.errors:
                raise GraphQLError("; ".join(pricing.errors), extensions={"code": "BAD_REQUEST"})
            return pricing.view(currency, {line.id: self.line_item(line) for line in order.lines})

        return {
            "currencyCode": currency, "taxesIncluded": False,
            "totalPriceSet": bag(total, currency), "currentTotalPriceSet": bag(total - refunded(order), currency),
            "totalRefundedSet": bag(refunded(order), currency),
            "cancellation": {"staffNote": order.cancel_note} if order.cancelled_at else None,
            "transactions": lambda info, first=None, **_: [sale] + [
                transaction_view(order, refund.transaction_id, "REFUND", refund.amount, sale) for refund in order.refunds],
            "refunds": lambda info, first=None: [self.refund(order, refund) for refund in order.refunds][:first],
            "suggestedRefund": suggested,
        }

    def refund(self, order: Order, refund: Refund) -> View:
        from sandbox.shopify.refunds import bag, refund_line_view, transaction_view

        lines = {line.id: self.line_item(line) for line in order.lines}
        sale = transaction_view(order, order.sale_id, "SALE", Decimal(0))
        return {"__typename": "Refund", "id": gid("Refund", refund.id), "legacyResourceId": str(refund.id),
                "note": refund.note, "createdAt": iso(refund.created_at), "processedAt": iso(refund.created_at),
                "updatedAt": iso(refund.created_at), "totalRefundedSet": bag(refund.amount, order.currency),
                "order": lambda info: self.order(order),
                "refundLineItems": lambda info, **page: connection(
                    info, refund.lines, lambda part: refund_line_view(part, lines, order.currency),
                    lambda part: (part.line_item_id,), **page),
                "transactions": lambda info, **page: connection(
                    info, [refund], lambda r: transaction_view(order, r.transaction_id, "REFUND", r.amount, sale,
                                                               r.error_code),
                    lambda r: (r.transaction_id,), **page)}

    def _metafield_fields(self, owner: Order | Variant, owner_type: str) -> View:
        """`metafield(namespace, key)` and `metafields(namespace, keys)` of an order or a variant."""
        def one(info: Any, key: str, namespace: str | None = None) -> View | None:
            if namespace is None and "." in key:
                namespace, key = key.split(".", 1)
            found = owner.metafield(app_namespace(namespace), key)
            return self.metafield(found, owner_type) if found else None

        def many(info: Any, namespace: str | None = None, keys: list[str] | None = None, **page: Any) -> View:
            wanted = None if namespace is None else app_namespace(namespace)
            chosen = [m for m in owner.metafields if (wanted is None or m.namespace == wanted)
                      and (keys is None or f"{m.namespace}.{m.key}" in keys)]
            return connection(info, chosen, lambda m: self.metafield(m, owner_type), by_id, **page)

        return {"metafield": one, "metafields": many}

    def metafield(self, metafield: Metafield, owner_type: str = "ORDER") -> View:
        return {"__typename": "Metafield", "id": gid("Metafield", metafield.id), "namespace": metafield.namespace,
                "key": metafield.key, "type": metafield.type, "value": metafield.value,
                "jsonValue": json.loads(metafield.value) if metafield.type == "json" else metafield.value,
                "compareDigest": metafield.compare_digest, "createdAt": iso(metafield.created_at),
                "updatedAt": iso(metafield.updated_at), "ownerType": owner_type,
                "legacyResourceId": str(metafield.id)}

    def line_item(self, line: LineItem) -> View:
        variant = self.state.variants.get(line.variant_id or -1)
        return {"__typename": "LineItem", "id": gid("LineItem", line.id), "sku": line.sku, "title": line.title,
                "name": line.title, "quantity": line.quantity, "currentQuantity": line.current,
                "unfulfilledQuantity": line.unfulfilled_quantity, "fulfillableQuantity": line.unfulfilled_quantity,
                "nonFulfillableQuantity": line.current - line.unfulfilled_quantity,
                "requiresShipping": line.requires_shipping, "variantTitle": variant.title if variant else None,
                "variant": self.variant(variant) if variant else None}

    def variant(self, variant: Variant) -> View:
        levels = self.state.item_levels(variant.inventory_item_id)
        return {"__typename": "ProductVariant", "id": gid("ProductVariant", variant.id),
                "legacyResourceId": str(variant.id), "sku": variant.sku, "title": variant.title,
                "displayName": f"{variant.product_title} - {variant.title}", "price": variant.price,
                "inventoryPolicy": variant.inventory_policy,
                "inventoryQuantity": sum(q.get("available", 0) for _, q in levels) if variant.tracked else None,
                "product": {"__typename": "Product", "id": gid("Product", variant.product_id),
                            "title": variant.product_title, "legacyResourceId": str(variant.product_id)},
                "inventoryItem": lambda info: self.inventory_item(variant),
                **self._metafield_fields(variant, "PRODUCTVARIANT")}

    def inventory_item(self, variant: Variant) -> View:
        item_id = variant.inventory_item_id
        return {"__typename": "InventoryItem", "id": gid("InventoryItem", item_id), "legacyResourceId": str(item_id),
                "sku": variant.sku, "tracked": variant.tracked, "requiresShipping": True,
                "variant": lambda info: self.variant(variant),
                "variants": lambda info, **page: connection(info, [variant], self.variant, by_id, **page),
                "inventoryLevels": lambda info, query=None, **page: connection(
                    info, self.state.item_levels(item_id), lambda level: self.inventory_level(variant, *level),
                    lambda level: (level[0].id,), **page)}

    def inventory_level(self, variant: Variant, location: Location, quantities: dict[str, int]) -> View:
        level_id = f"gid://shopify/InventoryLevel/{location.id}?inventory_item_id={variant.inventory_item_id}"
        return {"__typename": "InventoryLevel", "id": level_id, "location": self.location(location),
                "item": lambda info: self.inventory_item(variant),
                "quantities": lambda info, names: [
                    {"__typename": "InventoryQuantity", "id": f"{level_id}&name={name}", "name": name,
                     "quantity": quantities.get(name, 0)} for name in names]}

    def fulfillment_order(self, fo: FulfillmentOrder) -> View:
        order = self.state.orders[fo.order_id]
        lines = {line.id: line for line in order.lines}
        location = self.state.location_of(fo)
        return {"__typename": "FulfillmentOrder", "id": gid("FulfillmentOrder", fo.id), "status": fo.status,
                "requestStatus": "ACCEPTED" if fo.in_progress else "UNSUBMITTED",
                "supportedActions": lambda info: [{"action": action, "externalUrl": None}
                                                  for action in supported_actions(fo, location, requesting_app(info))],
                "orderId": gid("Order", order.id), "orderName": order.name,
                "createdAt": iso(fo.created_at), "updatedAt": iso(fo.updated_at),
                "assignedLocation": {"name": location.name, "countryCode": "US", "location": self.location(location)},
                "order": lambda info: self.order(order),
                "fulfillmentHolds": [self.hold(hold) for hold in fo.holds],
                "lineItems": lambda info, **page: connection(info, fo.lines, lambda fl: {
                    "__typename": "FulfillmentOrderLineItem", "id": gid("FulfillmentOrderLineItem", fl.id),
                    "totalQuantity": fl.total_quantity, "remainingQuantity": fl.remaining_quantity,
                    "sku": lines[fl.line_item_id].sku, "requiresShipping": lines[fl.line_item_id].requires_shipping,
                    "productTitle": lines[fl.line_item_id].title,
                    "lineItem": self.line_item(lines[fl.line_item_id])}, by_id, **page)}

    def hold(self, hold: Hold) -> View:
        return {"__typename": "FulfillmentHold", "id": gid("FulfillmentHold", hold.id), "handle": hold.handle,
                "reason": hold.reason, "reasonNotes": hold.reason_notes,
                "heldByRequestingApp": lambda info: hold.app == requesting_app(info),
                "displayReason": HOLD_REASON_TEXT.get(hold.reason, hold.reason.replace("_", " ").capitalize())}

    def subscription(self, sub: WebhookSubscription) -> View:
        return {"__typename": "WebhookSubscription", "id": gid("WebhookSubscription", sub.id),
                "legacyResourceId": str(sub.id), "topic": sub.topic, "format": sub.format, "uri": sub.uri,
                # deprecated for `uri`, still served (a document asking for them fails validation first)
                "callbackUrl": sub.uri, "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.uri},
                "createdAt": iso(sub.created_at), "updatedAt": iso(sub.created_at),
                "includeFields": [], "metafieldNamespaces": [], "filter": None,
                "apiVersion": {"handle": sub.api_version, "displayName": sub.api_version, "supported": True}}

    def bulk_operation(self, op: BulkOperation) -> View:
        return {"__typename": "BulkOperation", "id": gid("BulkOperation", op.id), "status": op.status,
                "type": "QUERY", "query": op.query, "createdAt": iso(op.created_at),
                "completedAt": iso(op.completed_at), "errorCode": op.error_code,
                "objectCount": str(op.object_count), "rootObjectCount": str(op.root_object_count),
                "fileSize": str(len(op.body)) if op.status == "COMPLETED" else None, "url": op.url,
                "partialDataUrl": op.partial_url}


def supported_actions(fo: FulfillmentOrder, location: Location, app: str) -> list[str]:
    """What the requesting app may do with the fulfillment order now: no HOLD once it is closed or a
    fulfillment service has accepted it, nor past the app's ten holds."""
    if fo.closed:
        return []
    if fo.in_progress:
        return ["CREATE_FULFILLMENT", "REQUEST_CANCELLATION"] if location.fulfillment_service else ["CREATE_FULFILLMENT"]
    actions = ["REQUEST_FULFILLMENT"] if location.fulfillment_service else ["CREATE_FULFILLMENT", "MOVE"]
    if sum(1 for hold in fo.holds if hold.app == app) < MAX_HOLDS_PER_APP:
        actions.append("HOLD")
    if fo.holds:
        actions.append("RELEASE_HOLD")
    return actions

