"""Fulfillment holds, placed and released the way Shopify asks apps to.

- A fulfillment order is held only when its `supportedActions` lists HOLD, and only with the scope its
  location needs: `write_third_party_fulfillment_orders` for a fulfillment service (3PL) location,
  `write_merchant_managed_fulfillment_orders` for the merchant's own.
- A hold is the connector's only when Shopify says `heldByRequestingApp` and it carries the connector's
  handle: another app may use the same handle, and a release always names its hold ids.
- A userError on one fulfillment order is recorded and the others go on; what could not be held for a
  reason retrying will not change (not holdable now, a scope not granted) is reported as `Skipped`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import Any

from connector.errors import AuthError, Skipped, UserError
from connector.platforms.base import HOLD_HANDLE, HoldRequest, ReadySplit

from . import documents as docs
from .client import ShopifyClient
from .mapping import numeric_id
from .scopes import MERCHANT_HOLDS, THIRD_PARTY_HOLDS, has_scope

log = logging.getLogger(__name__)

UNHOLDABLE_STATES = frozenset({"CLOSED", "CANCELLED", "INCOMPLETE"})
DEFAULT_HOLD_NOTE = "Backordered: waiting for stock (set by the backorder connector)"


def is_ours(hold: dict[str, Any]) -> bool:
    return hold.get("heldByRequestingApp") is True and hold.get("handle") == HOLD_HANDLE


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def scope_for(fulfillment_order: dict[str, Any]) -> str:
    """The scope holding this fulfillment order needs, by the kind of location it is assigned to."""
    at_service = _dig(fulfillment_order, "assignedLocation", "location", "isFulfillmentService") is True
    return THIRD_PARTY_HOLDS if at_service else MERCHANT_HOLDS


def _label(fulfillment_order: dict[str, Any]) -> str:
    return f"fulfillment order {numeric_id(str(fulfillment_order.get('id')))}"


def _refusal(error: Exception) -> bool:
    """A refusal of this one fulfillment order (recorded, the others go on), not of the token."""
    if isinstance(error, UserError):
        return True
    return isinstance(error, AuthError) and error.code == "ACCESS_DENIED" and error.status != 401


def _each(client: ShopifyClient, document: str, variables: dict[str, Any], payload_key: str,
          fulfillment_order: dict[str, Any], refused: list[str]) -> int:
    """One fulfillment order's mutation: 1 when done; 0, with the refusal recorded, when Shopify refused it."""
    try:
        client.mutate(document, variables, payload_key)
    except (UserError, AuthError) as error:
        if not _refusal(error):
            raise
        refused.append(f"{_label(fulfillment_order)}: {error}")
        return 0
    return 1


HoldPlan = tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[str]]


def plan_holds(fulfillment_orders: Iterable[dict[str, Any]], request: HoldRequest,
               granted: Collection[str] | None) -> HoldPlan:
    """The `fulfillmentOrderHold` variables to send, per fulfillment order, and what cannot be held and why."""
    wanted = {numeric_id(line_id) for line_id in request.line_ids}
    planned: list[tuple[dict[str, Any], dict[str, Any]]] = []
    skipped: list[str] = []
    for fulfillment_order in fulfillment_orders:
        status = fulfillment_order.get("status")
        if status in UNHOLDABLE_STATES:
            continue
        if any(is_ours(hold) for hold in fulfillment_order.get("fulfillmentHolds") or []):
            continue  # ours already: holding again would only fail on the duplicate handle
        lines = [
            {"id": line["id"], "quantity": int(line["remainingQuantity"])}
            for line in fulfillment_order["lines"]
            if numeric_id(str(_dig(line, "lineItem", "id") or "")) in wanted and line.get("remainingQuantity")
        ]
        if not lines:
            continue
        actions = {action.get("action") for action in fulfillment_order.get("supportedActions") or []}
        if "HOLD" not in actions:
            skipped.append(f"{_label(fulfillment_order)}: Shopify offers no HOLD on it now (status {status})")
            continue
        scope = scope_for(fulfillment_order)
        if granted is not None and not has_scope(granted, scope):
            skipped.append(f"{_label(fulfillment_order)}: holding it needs the {scope} scope, which is not granted")
            continue
        hold = {"reason": request.reason, "reasonNotes": request.notes or DEFAULT_HOLD_NOTE,
                "handle": HOLD_HANDLE, "notifyMerchant": False, "fulfillmentOrderLineItems": lines}
        planned.append((fulfillment_order, {"id": fulfillment_order["id"], "hold": hold}))
    return planned, skipped


def plan_releases(fulfillment_orders: Iterable[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The `fulfillmentOrderReleaseHold` variables: this app's own holds, each by its id."""
    return [(fo, {"id": fo["id"], "holdIds": ours}) for fo in fulfillment_orders
            if (ours := [hold["id"] for hold in fo.get("fulfillmentHolds") or [] if is_ours(hold)])]


def hold_outcome(done: int, refused: list[str], skipped: list[str], verb: str = "held") -> bool:
    """True when something was held (or released); raises what the store refused or what was skipped."""
    if refused:
        raise UserError(refused + skipped + ([f"{done} other fulfillment order(s) {verb}"] if done else []))
    if skipped:
        raise Skipped("; ".join(skipped), partly_done=done > 0)
    return done > 0


def place_holds(client: ShopifyClient, fulfillment_orders: Iterable[dict[str, Any]], request: HoldRequest,
                granted: Collection[str] | None) -> bool:
    """Hold the requested lines wherever Shopify lets this app; True when a hold was placed."""
    planned, skipped = plan_holds(fulfillment_orders, request, granted)
    refused: list[str] = []
    placed = sum(_each(client, docs.FULFILLMENT_ORDER_HOLD_MUTATION, variables, "fulfillmentOrderHold", fo, refused)
                 for fo, variables in planned)
    return hold_outcome(placed, refused, skipped)


def release_holds(client: ShopifyClient, fulfillment_orders: Iterable[dict[str, Any]]) -> bool:
    """Release this app's own holds, each by its id (never every hold on the fulfillment order)."""
    refused: list[str] = []
    released = sum(_each(client, docs.FULFILLMENT_ORDER_RELEASE_HOLD_MUTATION, variables,
                         "fulfillmentOrderReleaseHold", fo, refused) for fo, variables in plan_releases(fulfillment_orders))
    return hold_outcome(released, refused, [], "released")


def split_ready(client: ShopifyClient, fulfillment_orders: list[dict[str, Any]], split: ReadySplit) -> bool:
    """Ship what is in stock now: the backordered units move to a fulfillment order of their own
    (`fulfillmentOrderSplit`), and only that one is held. True when something changed.

    The fulfillment order holding exactly the moved quantities is the one held, whichever of the split's
    results Shopify names it, so the in-stock units stay free to ship."""
    wanted = {line.line_id: line.quantity for line in split.held}
    if any(is_ours(hold) for fo in fulfillment_orders for hold in fo.get("fulfillmentHolds") or []):
        return False  # split and held already
    changed = False
    for fo in fulfillment_orders:
        if fo.get("status") in UNHOLDABLE_STATES:
            continue
        moving = []
        others = 0
        for line in fo["lines"]:
            line_id = numeric_id(str(_dig(line, "lineItem", "id") or ""))
            remaining = int(line.get("remainingQuantity") or 0)
            units = min(wanted.get(line_id, 0), remaining)
            if units:
                moving.append({"id": line["id"], "quantity": units})
            others += remaining - units
        if not moving:
            continue
        target = fo
        if others:
            payload = client.mutate(docs.FULFILLMENT_ORDER_SPLIT_MUTATION,
                                    {"splits": [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": moving}]},
                                    "fulfillmentOrderSplit")
            changed = True
            results = payload.get("fulfillmentOrderSplits") or []
            ids = [str((r.get(k) or {}).get("id")) for r in results for k in ("fulfillmentOrder", "remainingFulfillmentOrder")]
            target = {"id": _moved_to(client, ids, moving, fo), "status": "OPEN", "lines": []}
        hold = {"reason": split.reason, "reasonNotes": split.notes or DEFAULT_HOLD_NOTE, "handle": HOLD_HANDLE,
                "notifyMerchant": False}
        client.mutate(docs.FULFILLMENT_ORDER_HOLD_MUTATION, {"id": target["id"], "hold": hold}, "fulfillmentOrderHold")
        changed = True
    return changed


def _moved_to(client: ShopifyClient, ids: list[str], moving: list[dict[str, Any]], original: dict[str, Any]) -> str:
    """Of the split's fulfillment orders, the one whose remaining units are exactly the ones moved."""
    wanted = sorted(int(m["quantity"]) for m in moving)
    for fo_id in ids:
        node = client.execute(docs.FULFILLMENT_ORDER_LINE_ITEMS_QUERY, {"id": fo_id, "first": 250}).get(
            "fulfillmentOrder") or {}
        quantities = sorted(int(n.get("remainingQuantity") or 0) for n in (node.get("lineItems") or {}).get("nodes") or [])
        if quantities == wanted and fo_id != original["id"]:
            return fo_id
    for fo_id in ids:
        if fo_id != original["id"]:
            return fo_id
    raise UserError([f"{client.domain}: fulfillmentOrderSplit named no fulfillment order for the backordered units"])
