"""Push-back in batches: the current state of many orders in one `nodes(ids:)` read, their writes in aliased mutations.

How one `write_batch` goes (the caller claimed the actions before it, so every write below is decided
from a read taken after the claim, as the single writes are):
    read     `ORDERS_FOR_WRITES_QUERY` for as many orders as fit under the 1,000-point cap by the cost
             model the client and the sandbox share (`nodes(ids:)` costs one Order per id); an order
             with more fulfillment orders or lines than that read holds is read again alone.
    decide   per write, what differs: the tag present or not, the metafields, the merged note, the
             fulfillment orders that need a hold (`supportedActions` and scopes, as `holds.py`), or
             the holds of ours to release. A write with nothing to change is False without a request.
    write    the mutations of several writes in one document, one alias per mutation; a write's
             mutations always share a document; at most MUTATIONS_PER_DOCUMENT (cost 10 each) a document.
    settle   each write by its own aliases' userErrors. A document that fails as a whole (throttled,
             unreachable, refused) gives its exception to each of its writes, which are then retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connector.errors import NotFoundError, UserError
from connector.platforms.base import BACKORDER_TAG, WriteOutcome, WriteRequest

from . import documents as docs
from .cost import MAX_QUERY_COST, requested_cost
from .holds import hold_outcome, plan_holds, plan_releases
from .mapping import gid, numeric_id
from .marks import NAMESPACE, TYPES, desired_values, same_value
from .notes import merge_note

if TYPE_CHECKING:
    from .adapter import ShopifyPlatform

READ_FULFILLMENT_ORDERS = 2
READ_LINES = 10
METAFIELDS_READ = 10
MUTATIONS_PER_DOCUMENT = 50  # 500 points: half a standard bucket, so other apps keep some of it
METAFIELDS_PER_SET = 25  # Shopify's limit for one metafieldsSet


def _read_variables(ids: list[str]) -> dict[str, Any]:
    return {"ids": ids, "namespace": NAMESPACE, "metafields": METAFIELDS_READ,
            "fulfillmentOrders": READ_FULFILLMENT_ORDERS, "lineItems": READ_LINES}


def orders_per_read(cap: int = MAX_QUERY_COST) -> int:
    """The most orders one batched read may ask for and stay within `cap` points."""
    count = 1
    while requested_cost(docs.ORDERS_FOR_WRITES_QUERY, _read_variables(["x"] * (count + 1))) <= cap:
        count += 1
    return count


ORDERS_PER_READ = orders_per_read()


@dataclass
class _Plan:
    """One write's mutations, and how their results settle it."""

    request: WriteRequest
    parts: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # (mutation, variables, label)
    settle: Callable[[list[tuple[str, list[str]]]], WriteOutcome] | None = None


def _plain(results: list[tuple[str, list[str]]]) -> WriteOutcome:
    errors = [message for _label, messages in results for message in messages]
    return UserError(errors) if errors else True


def _holds_settler(skipped: list[str], verb: str) -> Callable[[list[tuple[str, list[str]]]], WriteOutcome]:
    def settle(results: list[tuple[str, list[str]]]) -> WriteOutcome:
        refused = [f"{label}: {'; '.join(messages)}" for label, messages in results if messages]
        done = sum(1 for _label, messages in results if not messages)
        try:
            return hold_outcome(done, refused, skipped, verb)
        except Exception as error:  # noqa: BLE001 - Skipped or UserError: this write's own outcome
            return error
    return settle


class BatchedWrites:
    """`ShopifyPlatform.write_batch`, kept apart from the single writes it mirrors."""

    def __init__(self, platform: ShopifyPlatform) -> None:
        self.platform = platform
        self.client = platform.client

    def write(self, requests: Sequence[WriteRequest]) -> dict[int, WriteOutcome]:
        outcomes: dict[int, WriteOutcome] = {}
        allowed: list[WriteRequest] = []
        for request in requests:
            try:
                self.platform._require("write_orders", f"the {request.kind} write")
            except Exception as error:  # noqa: BLE001 - Skipped: recorded, never retried
                outcomes[request.key] = error
                continue
            allowed.append(request)
        states = self._read(list(dict.fromkeys(request.order_id for request in allowed)),
                            needs_holds={r.order_id for r in allowed if r.kind in ("hold", "release")})
        plans: list[_Plan] = []
        for request in allowed:
            state = states.get(request.order_id)
            if state is None:
                outcomes[request.key] = NotFoundError(f"{self.client.domain}: order {request.order_id} not found")
                continue
            plan = self._plan(request, state)
            if not plan.parts:
                assert plan.settle is not None
                outcomes[request.key] = plan.settle([]) if request.kind in ("hold", "release") else False
                continue
            plans.append(plan)
        for document_plans in _pack(plans):
            outcomes.update(self._send(document_plans))
        return outcomes

    # -- reading ----------------------------------------------------------------------------------

    def _read(self, order_ids: list[str], *, needs_holds: set[str]) -> dict[str, dict[str, Any]]:
        states: dict[str, dict[str, Any]] = {}
        for start in range(0, len(order_ids), ORDERS_PER_READ):
            chunk = order_ids[start : start + ORDERS_PER_READ]
            data = self.client.execute(docs.ORDERS_FOR_WRITES_QUERY, _read_variables([gid("Order", o) for o in chunk]))
            for node in data.get("nodes") or []:
                if isinstance(node, dict) and node.get("id"):
                    states[numeric_id(str(node["id"]))] = node
        for order_id, node in states.items():
            if order_id not in needs_holds:
                continue
            connection = node.get("fulfillmentOrders") or {}
            fulfillment_orders = connection.get("nodes") or []
            partial = (connection.get("pageInfo") or {}).get("hasNextPage") or any(
                ((fo.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage") for fo in fulfillment_orders)
            if partial:  # more than one read's page: the single path reads every page of this order
                node["fulfillment_orders"] = self.platform._fulfillment_orders(order_id)
            else:
                for fo in fulfillment_orders:
                    fo["lines"] = (fo.get("lineItems") or {}).get("nodes") or []
                node["fulfillment_orders"] = fulfillment_orders
        return states

    # -- deciding ---------------------------------------------------------------------------------

    def _plan(self, request: WriteRequest, state: dict[str, Any]) -> _Plan:
        plan = _Plan(request, settle=_plain)
        owner = gid("Order", request.order_id)
        label = f"order {request.order_id}"
        tags = state.get("tags") or []
        if request.kind == "tag":
            if not any(tag.lower() == BACKORDER_TAG.lower() for tag in tags):  # Shopify tags ignore case
                plan.parts.append(("tagsAdd", {"id": owner, "tags": [BACKORDER_TAG]}, label))
        elif request.kind == "untag":
            present = [tag for tag in tags if tag.lower() == BACKORDER_TAG.lower()]
            if present:
                plan.parts.append(("tagsRemove", {"id": owner, "tags": present}, label))
        elif request.kind == "note":
            note = state.get("note") or ""
            merged = merge_note(note, request.text)
            if merged != note:
                plan.parts.append(("orderUpdate", {"id": owner, "note": merged}, label))
        elif request.kind == "marks" and request.marks is not None:
            stored = {node["key"]: node.get("value") for node in (state.get("metafields") or {}).get("nodes") or []}
            to_set, to_delete = [], []
            for key, wanted in desired_values(request.marks).items():
                if same_value(key, stored.get(key), wanted):
                    continue
                if wanted is None:
                    to_delete.append({"ownerId": owner, "namespace": NAMESPACE, "key": key})
                else:
                    to_set.append({"ownerId": owner, "namespace": NAMESPACE, "key": key, "type": TYPES[key],
                                   "value": wanted})
            for start in range(0, len(to_set), METAFIELDS_PER_SET):
                plan.parts.append(("metafieldsSet", {"metafields": to_set[start : start + METAFIELDS_PER_SET]}, label))
            if to_delete:
                plan.parts.append(("metafieldsDelete", {"metafields": to_delete}, label))
        elif request.kind == "hold" and request.hold is not None:
            planned, skipped = plan_holds(state["fulfillment_orders"], request.hold, self.platform.granted)
            plan.parts += [("fulfillmentOrderHold", variables, f"fulfillment order {numeric_id(str(fo['id']))}")
                           for fo, variables in planned]
            plan.settle = _holds_settler(skipped, "held")
        elif request.kind == "release":
            plan.parts += [("fulfillmentOrderReleaseHold", variables, f"fulfillment order {numeric_id(str(fo['id']))}")
                           for fo, variables in plan_releases(state["fulfillment_orders"])]
            plan.settle = _holds_settler([], "released")
        return plan

    # -- writing ----------------------------------------------------------------------------------

    def _send(self, plans: list[_Plan]) -> dict[int, WriteOutcome]:
        fields: list[str] = []
        variables: dict[str, Any] = {}
        for plan in plans:
            for mutation, values, _label in plan.parts:
                n = len(fields)
                fields.append(mutation)
                variables.update({f"{name}_{n}": value for name, value in values.items()})
        document = docs.batched_writes_mutation(fields)
        try:
            data = self.client.execute(document, variables)
        except Exception as error:  # noqa: BLE001 - the whole document failed: nothing of it is settled
            return {plan.request.key: error for plan in plans}
        outcomes: dict[int, WriteOutcome] = {}
        n = 0
        for plan in plans:
            results: list[tuple[str, list[str]]] = []
            for mutation, _values, label in plan.parts:
                payload = data.get(f"w{n}")
                n += 1
                if not isinstance(payload, dict):
                    results.append((label, [f"{mutation} returned no payload"]))
                    continue
                results.append((label, [_text(error) for error in payload.get("userErrors") or []]))
            assert plan.settle is not None
            outcomes[plan.request.key] = plan.settle(results)
        return outcomes


def _pack(plans: list[_Plan]) -> list[list[_Plan]]:
    """Plans grouped into documents of at most MUTATIONS_PER_DOCUMENT mutations, a plan never split."""
    documents: list[list[_Plan]] = []
    current: list[_Plan] = []
    size = 0
    for plan in plans:
        count = len(plan.parts)
        if current and size + count > MUTATIONS_PER_DOCUMENT:
            documents.append(current)
            current, size = [], 0
        current.append(plan)
        size += count
    if current:
        documents.append(current)
    return documents


def _text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    path = ".".join(str(part) for part in error.get("field") or [])
    return f"{path}: {error.get('message')}" if path else str(error.get("message"))
