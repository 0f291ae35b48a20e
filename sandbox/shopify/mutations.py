"""Mutation resolvers of the Shopify sandbox, with Shopify's `userErrors` for refused input.

Scopes are enforced as Shopify does, with a top-level ACCESS_DENIED error: `write_orders` for tags, notes
and order metafields; `write_products` for variant metafields and their definitions; `write_merchant_managed_fulfillment_orders` to hold at the merchant's own locations and
`write_third_party_fulfillment_orders` at a fulfillment service's. An order the token may not read (older
than 60 days without `read_all_orders`) does not exist for its mutations.

Simplifications (documented so tests do not rely on them): a partial `fulfillmentOrderHold` splits the
fulfillment order as Shopify does, but released holds never merge the split orders back; only orders
and product variants own metafields, only orders tags; a namespace `$app:x` is stored as `app--1--x`; `webhookSubscriptionCreate` accepts plain http URIs (for loopback) and always
delivers JSON.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify.model import (
    APP_NAMESPACE,
    FulfillmentOrder,
    FulfillmentOrderLine,
    Hold,
    Metafield,
    MetafieldDefinition,
    Order,
    Variant,
    WebhookSubscription,
    app_namespace,
    gid,
    parse_gid,
)
from sandbox.shopify.refunds import RefundMutations
from sandbox.shopify.resolvers import granted, require_gid, require_scope
from sandbox.shopify.state import ShopifyState
from sandbox.shopify.views import View, Views, requesting_app

MAX_METAFIELDS_PER_CALL = 25
MAX_HOLDS_PER_FULFILLMENT_ORDER = 10


def _user_error(field: list[str] | None, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code, **extra}


def _valid_value(kind: str, value: str) -> bool:
    try:
        if kind == "date":
            date.fromisoformat(value)
        elif kind == "date_time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif kind == "json":
            json.loads(value)
        elif kind == "number_integer":
            int(value)
        elif kind == "number_decimal":
            float(value)
        elif kind == "boolean":
            return value in ("true", "false")
        elif kind == "single_line_text_field":
            return "\n" not in value
        elif kind == "url":
            return re.match(r"^(https?|mailto|sms|tel)://?", value) is not None
    except ValueError:
        return False
    return True


METAFIELD_TYPES = frozenset({"single_line_text_field", "multi_line_text_field", "json", "date", "date_time",
                             "number_integer", "number_decimal", "boolean", "url", "color", "rich_text_field"})


def _split_tags(tags: list[str]) -> list[str]:
    return [part.strip() for tag in tags for part in tag.split(",") if part.strip()]


class MutationRoot:
    """The mutations the connector sends; every payload carries `userErrors` like Shopify's."""

    def __init__(self, state: ShopifyState, views: Views, bulk_runner: Any) -> None:
        self.state = state
        self.views = views
        self.bulk_runner = bulk_runner
        self.refunds = RefundMutations(state, views, self._order, self._fulfillment_order)

    def fields(self) -> dict[str, Any]:
        return {
            "tagsAdd": lambda info, id, tags: self.tags(info, id, tags, add=True),
            "tagsRemove": lambda info, id, tags: self.tags(info, id, tags, add=False),
            "orderUpdate": lambda info, input: self.order_update(info, input),
            "metafieldsSet": lambda info, metafields: self.metafields_set(info, metafields),
            "metafieldsDelete": lambda info, metafields: self.metafields_delete(info, metafields),
            "metafieldDefinitionCreate": lambda info, definition: self.definition_create(info, definition),
            "fulfillmentOrderHold": lambda info, id, fulfillmentHold: self.hold(info, id, fulfillmentHold),
            "fulfillmentOrderReleaseHold": lambda info, id, holdIds=None, externalId=None: self.release(info, id, holdIds),
            "webhookSubscriptionCreate": self.webhook_create,
            "webhookSubscriptionDelete": lambda info, id: self.webhook_delete(id),
            "bulkOperationRunQuery": lambda info, query, groupObjects=False: self.bulk_runner(info, query, groupObjects),
            "refundCreate": lambda info, input: self.refunds.refund_create(info, input),
            "orderCancel": self.refunds.order_cancel,
            "fulfillmentOrderSplit": lambda info, fulfillmentOrderSplits: self.refunds.split(info, fulfillmentOrderSplits),
        }

    def _order(self, value: str, info: GraphQLResolveInfo | None = None) -> Order | None:
        order = self.state.orders.get(require_gid(value, "Order") or -1)
        if order is not None and info is not None and not self.state.readable(order, granted(info)):
            return None
        return order

    def _fulfillment_order(self, info: GraphQLResolveInfo, value: str) -> FulfillmentOrder | None:
        fo = self.state.find_fulfillment_order(require_gid(value, "FulfillmentOrder") or -1)
        if fo is not None and not self.state.readable(self.state.orders[fo.order_id], granted(info)):
            return None
        return fo

    def tags(self, info: GraphQLResolveInfo, order_id: str, tags: list[str], *, add: bool) -> View:
        require_scope(info, "tagsAdd" if add else "tagsRemove", "write_orders")
        order = self._order(order_id, info)
        if order is None:
            return {"node": None, "userErrors": [_user_error(["id"], "Order does not exist")]}
        wanted = _split_tags(tags)
        if any(len(tag) > 255 for tag in wanted):
            return {"node": None, "userErrors": [_user_error(["tags"], "Tags must be 255 characters or fewer")]}
        lowered = {tag.lower() for tag in order.tags}
        if add:
            fresh = [tag for tag in dict.fromkeys(wanted) if tag.lower() not in lowered]
            changed_tags = order.tags + fresh
        else:
            removing = {tag.lower() for tag in wanted}
            changed_tags = [tag for tag in order.tags if tag.lower() not in removing]
        if changed_tags != order.tags:
            order.tags = changed_tags
            self._changed(order)
        return {"node": self.views.order(order), "userErrors": []}

    def _changed(self, order: Order) -> None:
        self.state.touch(order)
        self.state.notify("orders/updated", order)

    def order_update(self, info: GraphQLResolveInfo, values: dict[str, Any]) -> View:
        require_scope(info, "orderUpdate", "write_orders")
        order = self._order(values["id"], info)
        if order is None:
            return {"order": None, "userErrors": [_user_error(["id"], "Order does not exist")]}
        errors = self._check_metafield_inputs(values.get("metafields") or [], order, ["input", "metafields"])
        if errors:
            return {"order": None, "userErrors": errors}
        before = (order.note, list(order.tags), order.email, [(m.namespace, m.key, m.value) for m in order.metafields])
        if "note" in values:
            order.note = values["note"]
        if "tags" in values and values["tags"] is not None:
            order.tags = list(dict.fromkeys(_split_tags(values["tags"])))
        if "email" in values:
            order.email = values["email"]
        for entry in values.get("metafields") or []:
            self._write_metafield(order, entry.get("namespace") or APP_NAMESPACE, entry["key"], entry["value"],
                                  entry.get("type"))
        if before != (order.note, order.tags, order.email, [(m.namespace, m.key, m.value) for m in order.metafields]):
            self._changed(order)
        return {"order": self.views.order(order), "userErrors": []}

    def _check_metafield_inputs(self, entries: list[dict[str, Any]], order: Order | None,
                                where: list[str], info: GraphQLResolveInfo | None = None) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        for index, entry in enumerate(entries):
            path = [*where, str(index)]
            owner = order if order is not None else self._owner(entry.get("ownerId", ""), info)
            namespace, key = app_namespace(entry.get("namespace")), entry.get("key") or ""
            value, kind = entry.get("value"), entry.get("type")
            if owner is None:
                errors.append(_user_error([*path, "ownerId"], "Owner does not exist.", "INVALID_VALUE", elementIndex=index))
                continue
            existing = owner.metafield(namespace, key)
            if not 3 <= len(namespace) <= 255:
                errors.append(_user_error([*path, "namespace"], "Namespace must be 3-255 characters long.",
                                          "TOO_SHORT" if len(namespace) < 3 else "TOO_LONG", elementIndex=index))
            if not 2 <= len(key) <= 64 or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
                errors.append(_user_error([*path, "key"], "Key must be 2-64 characters of letters, digits, - and _.",
                                          "INVALID_VALUE", elementIndex=index))
            if value is None:
                errors.append(_user_error([*path, "value"], "Value can't be blank.", "BLANK", elementIndex=index))
                continue
            kind = kind or (existing.type if existing else None)
            if kind is None:
                errors.append(_user_error([*path, "type"], "Type can't be blank.", "BLANK", elementIndex=index))
            elif kind not in METAFIELD_TYPES:
                errors.append(_user_error([*path, "type"], f"Type '{kind}' is not a valid type.", "INVALID_TYPE",
                                          elementIndex=index))
            elif not _valid_value(kind, value):
                errors.append(_user_error([*path, "value"], f"Value is invalid for type {kind}.", "INVALID_VALUE",
                                          elementIndex=index))
            digest = entry.get("compareDigest")
            if digest is not None and (existing is None or existing.compare_digest != digest):
                errors.append(_user_error([*path, "compareDigest"], "The resource has been updated since it was "
                                          "loaded. Try again with an updated `compareDigest` value.", "STALE_OBJECT",
                                          elementIndex=index))
        return errors

    def _owner(self, owner_id: str, info: GraphQLResolveInfo | None = None) -> Order | Variant | None:
        parsed = parse_gid(owner_id)
        if parsed and parsed[0] == "ProductVariant":
            return self.state.variants.get(parsed[1])
        order = self.state.orders.get(parsed[1]) if parsed and parsed[0] == "Order" else None
        if order is not None and info is not None and not self.state.readable(order, granted(info)):
            return None
        return order

    def _require_owner_scopes(self, info: GraphQLResolveInfo, field: str, entries: list[dict[str, Any]]) -> None:
        kinds = {(parse_gid(entry.get("ownerId") or "") or ("", 0))[0] for entry in entries}
        if "ProductVariant" in kinds:
            require_scope(info, field, "write_products")
        if kinds - {"ProductVariant"} or not kinds:
            require_scope(info, field, "write_orders")

    def _write_metafield(self, order: Order | Variant, namespace: str, key: str, value: str,
                         kind: str | None) -> Metafield:
        existing = order.metafield(namespace, key)
        now = self.state.now()
        if existing is None:
            existing = Metafield(self.state.new_id(), namespace, key, kind or "single_line_text_field", value, now, now)
            order.metafields.append(existing)
        elif existing.value != value or (kind and kind != existing.type):
            existing.value, existing.type, existing.updated_at = value, kind or existing.type, max(now, existing.updated_at)
        return existing

    def metafields_set(self, info: GraphQLResolveInfo, entries: list[dict[str, Any]]) -> View:
        self._require_owner_scopes(info, "metafieldsSet", entries)
        if len(entries) > MAX_METAFIELDS_PER_CALL:
            return {"metafields": None, "userErrors": [_user_error(
                ["metafields"], f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_CALL}.",
                "LESS_THAN_OR_EQUAL_TO")]}
        errors = self._check_metafield_inputs(entries, None, ["metafields"], info)
        if errors:  # atomic: nothing is written when any entry is refused
            return {"metafields": None, "userErrors": errors}
        written = []
        for entry in entries:
            owner = self._owner(entry["ownerId"])
            assert owner is not None
            written.append(self._write_metafield(owner, app_namespace(entry.get("namespace")), entry["key"],
                                                 entry["value"], entry.get("type")))
        return {"metafields": [self.views.metafield(m) for m in written], "userErrors": []}

    def metafields_delete(self, info: GraphQLResolveInfo, entries: list[dict[str, Any]]) -> View:
        """Like Shopify: each identifier that named no metafield comes back as null, not as an error."""
        self._require_owner_scopes(info, "metafieldsDelete", entries)
        deleted: list[dict[str, Any] | None] = []
        for entry in entries:
            owner = self._owner(entry["ownerId"], info)
            found = owner.metafield(app_namespace(entry["namespace"]), entry["key"]) if owner is not None else None
            if owner is None or found is None:
                deleted.append(None)
                continue
            owner.metafields.remove(found)
            deleted.append({"ownerId": entry["ownerId"], "namespace": found.namespace, "key": found.key})
        return {"deletedMetafields": deleted, "userErrors": []}

    def definition_create(self, info: GraphQLResolveInfo, spec: dict[str, Any]) -> View:
        """Definitions on orders and variants; one that exists already answers the code TAKEN, like Shopify."""
        owner_type = spec["ownerType"]
        require_scope(info, "metafieldDefinitionCreate", "write_products" if owner_type == "PRODUCTVARIANT"
                      else "write_orders")
        namespace, key, kind = app_namespace(spec.get("namespace")), spec["key"], spec["type"]
        if owner_type not in ("ORDER", "PRODUCTVARIANT"):
            return {"createdDefinition": None, "userErrors": [_user_error(
                ["definition", "ownerType"], f"Owner type {owner_type} is not supported here.", "INVALID")]}
        if kind not in METAFIELD_TYPES:
            return {"createdDefinition": None, "userErrors": [_user_error(
                ["definition", "type"], f"Type '{kind}' is not a valid type.", "INCLUSION")]}
        if any((d.owner_type, d.namespace, d.key) == (owner_type, namespace, key) for d in self.state.definitions):
            return {"createdDefinition": None, "userErrors": [_user_error(
                ["definition", "key"], "Key is in use for Product variant metafields on the 'namespace' namespace.",
                "TAKEN")]}
        access = spec.get("access") or {}
        definition = MetafieldDefinition(self.state.new_id(), owner_type, namespace, key, kind,
                                         access.get("storefront") or "NONE")
        self.state.definitions.append(definition)
        return {"createdDefinition": {"__typename": "MetafieldDefinition", "id": gid("MetafieldDefinition", definition.id),
                                      "namespace": namespace, "key": key}, "userErrors": []}

    def hold(self, info: GraphQLResolveInfo, fo_id: str, spec: dict[str, Any]) -> View:
        empty = {"fulfillmentHold": None, "fulfillmentOrder": None, "remainingFulfillmentOrder": None}
        fo = self._fulfillment_order(info, fo_id)
        if fo is None:
            return {**empty, "userErrors": [_user_error(["id"], "Fulfillment order does not exist.",
                                                        "FULFILLMENT_ORDER_NOT_FOUND")]}
        at_service = self.state.location_of(fo).fulfillment_service
        require_scope(info, "fulfillmentOrderHold",
                      "write_third_party_fulfillment_orders" if at_service else "write_merchant_managed_fulfillment_orders")
        app = requesting_app(info)
        handle = spec.get("handle") or ""
        requested = spec.get("fulfillmentOrderLineItems") or []
        mine = [h for h in fo.holds if h.app == app]
        problem: dict[str, Any] | None = None
        if fo.closed or fo.in_progress:
            problem = _user_error(["id"], f"The fulfillment order's status is {fo.status}; only open or held "
                                  "fulfillment orders can be put on hold.")
        elif any(h.handle == handle for h in mine):
            problem = _user_error(["fulfillmentHold", "handle"], "The handle provided for the fulfillment hold is "
                                  "already in use by this app for another hold on this fulfillment order.",
                                  "DUPLICATE_FULFILLMENT_HOLD_HANDLE")
        elif len(mine) >= MAX_HOLDS_PER_FULFILLMENT_ORDER:
            problem = _user_error(["id"], "The maximum number of fulfillment holds for this fulfillment order has "
                                  "been reached for this app.", "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED")
        elif len(handle) > 64:
            problem = _user_error(["fulfillmentHold", "handle"], "Handle is too long (maximum is 64 characters)")
        held: dict[int, int] = {}
        if problem is None:
            held, problem = self._held_quantities(fo, requested)
        if problem is None and held and fo.holds:
            # a hold on part of it would split a fulfillment order that is already held
            problem = _user_error(["fulfillmentHold", "fulfillmentOrderLineItems"], "The fulfillment order is not "
                                  "in a splittable state.", "FULFILLMENT_ORDER_NOT_SPLITTABLE")
        if problem is not None:
            return {**empty, "userErrors": [problem]}
        remaining = self._split(fo, held) if held else None
        hold = Hold(self.state.new_id(), spec["reason"], spec.get("reasonNotes"), handle, app)
        fo.holds.append(hold)
        fo.updated_at = max(self.state.now(), fo.updated_at)
        return {"fulfillmentHold": self.views.hold(hold), "fulfillmentOrder": self.views.fulfillment_order(fo),
                "remainingFulfillmentOrder": self.views.fulfillment_order(remaining) if remaining else None,
                "userErrors": []}

    def _held_quantities(self, fo: FulfillmentOrder,
                         requested: list[dict[str, Any]]) -> tuple[dict[int, int], dict[str, Any] | None]:
        """(FO line id -> units to hold, None), or ({}, user error) when a requested line or quantity is wrong."""
        lines = {line.id: line for line in fo.lines}
        held: dict[int, int] = {}
        for index, entry in enumerate(requested):
            path = ["fulfillmentHold", "fulfillmentOrderLineItems", str(index)]
            parsed = parse_gid(entry["id"])
            line = lines.get(parsed[1]) if parsed and parsed[0] == "FulfillmentOrderLineItem" else None
            if line is None:
                return {}, _user_error([*path, "id"], "The line item does not belong to this fulfillment order.",
                                       "INVALID_LINE_ITEM_QUANTITY")
            if entry["quantity"] <= 0:
                return {}, _user_error([*path, "quantity"], "Quantity must be greater than 0.", "GREATER_THAN_ZERO")
            if entry["quantity"] > line.remaining_quantity:
                return {}, _user_error([*path, "quantity"], "The quantity to hold exceeds the line item's "
                                       "remaining quantity.", "INVALID_LINE_ITEM_QUANTITY")
            held[line.id] = held.get(line.id, 0) + entry["quantity"]
        if all(held.get(line.id, 0) == line.remaining_quantity for line in fo.lines):
            return {}, None  # everything requested: hold the whole fulfillment order, no split
        return held, None

    def _split(self, fo: FulfillmentOrder, held: dict[int, int]) -> FulfillmentOrder:
        """Move the units not held to a new open fulfillment order, as Shopify does for a partial hold."""
        now = self.state.now()
        rest = FulfillmentOrder(self.state.new_id(), fo.order_id, fo.location_id, now, now)
        kept: list[FulfillmentOrderLine] = []
        for line in fo.lines:
            moving = line.remaining_quantity - held.get(line.id, 0)
            if moving > 0:
                rest.lines.append(FulfillmentOrderLine(self.state.new_id(), line.line_item_id, moving, moving))
                line.remaining_quantity -= moving
                line.total_quantity -= moving
            if line.total_quantity > 0:
                kept.append(line)
        fo.lines = kept
        order = self.state.orders[fo.order_id]
        order.fulfillment_orders.append(rest)
        return rest

    def release(self, info: GraphQLResolveInfo, fo_id: str, hold_ids: list[str] | None) -> View:
        fo = self._fulfillment_order(info, fo_id)
        if fo is None:
            return {"fulfillmentOrder": None, "userErrors": [_user_error(
                ["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")]}
        if hold_ids is None:
            fo.holds.clear()
        else:
            numbers = [require_gid(one, "FulfillmentHold") for one in hold_ids]
            known = {hold.id for hold in fo.holds}
            unknown = [one for one, number in zip(hold_ids, numbers, strict=True) if number not in known]
            if unknown:
                return {"fulfillmentOrder": None, "userErrors": [_user_error(
                    ["holdIds"], f"Fulfillment holds not found on this fulfillment order: {', '.join(unknown)}")]}
            fo.holds = [hold for hold in fo.holds if hold.id not in numbers]
        fo.updated_at = max(self.state.now(), fo.updated_at)
        return {"fulfillmentOrder": self.views.fulfillment_order(fo), "userErrors": []}

    def webhook_create(self, info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]) -> View:
        url = webhookSubscription.get("uri") or ""
        where = ["webhookSubscription", "uri"]
        if not url:
            return {"webhookSubscription": None, "userErrors": [_user_error(where, "Address can't be blank")]}
        if not re.match(r"^(https?://[^/\s]+|pubsub://[\w-]+:[\w.-]+$|arn:aws:events:)", url):
            return {"webhookSubscription": None, "userErrors": [_user_error(
                where, "URI isn't correct URI format of https://, pubsub://{project}:topic or Eventbridge ARN")]}
        if any(s.topic == topic and s.uri == url for s in self.state.subscriptions.values()):
            return {"webhookSubscription": None,
                    "userErrors": [_user_error(where, "Address for this topic has already been taken")]}
        version = info.context.get("api_version", "2026-10") if isinstance(info.context, dict) else "2026-10"
        sub = WebhookSubscription(self.state.new_id(), topic, url, webhookSubscription.get("format") or "JSON",
                                  version, self.state.now())
        self.state.subscriptions[sub.id] = sub
        return {"webhookSubscription": self.views.subscription(sub), "userErrors": []}

    def webhook_delete(self, sub_id: str) -> View:
        number = require_gid(sub_id, "WebhookSubscription")
        if self.state.subscriptions.pop(number or -1, None) is None:
            return {"deletedWebhookSubscriptionId": None,
                    "userErrors": [_user_error(["id"], "Webhook subscription does not exist")]}
        return {"deletedWebhookSubscriptionId": gid("WebhookSubscription", number or 0), "userErrors": []}
