"""Shopify cancel and refund: `refundCreate` for backordered units, `orderCancel` for a whole order.

Backordered units: the order is re-read (`ORDER_REFUNDS_QUERY`); a refund whose note carries the
connector's marker is the one already made. Otherwise `Order.suggestedRefund` prices the units
(`restockType: CANCEL`, or `NO_RESTOCK` when cancelled units should not go back to stock) with their tax
as Shopify computes it, and its suggested transactions are what `refundCreate` pays back, under the
marker as the 2026-04 `@idempotent` key (a retried request makes no second refund). Shipping stays: the
rest of the order still ships.

A whole order: `orderCancel` with `refundMethod: {originalPaymentMethodsRefund: true}`, `restock`, reason
CUSTOMER, no Shopify email (the connector sends its own confirmation) and the marker in the staff note;
the refund it makes (items, tax and shipping) is read back from the order. An order already cancelled
counts as done.

Refusals raise `RefundRefused` with Shopify's words: `userErrors` and `orderCancelUserErrors` (an amount
no longer refundable, a gateway that cannot refund), and a refund whose every transaction the gateway
declined (status FAILURE or ERROR, with its errorCode), found at once or on a re-read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.errors import NotFoundError, RefundRefused, UserError
from connector.platforms.base import CancelOutcome, CancelRequest
from connector.platforms.shopify import documents as docs
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.shopify.mapping import gid, numeric_id

LINES = 250


def _amount(money_bag: Any) -> str:
    shop = (money_bag or {}).get("shopMoney") or {}
    return f"{Decimal(str(shop.get('amount') or '0')):.2f}"


def _order_state(client: ShopifyClient, order_id: str) -> dict[str, Any]:
    order = client.execute(docs.ORDER_REFUNDS_QUERY, {"id": gid("Order", order_id), "lineItems": LINES}).get("order")
    if not isinstance(order, dict):
        raise NotFoundError(f"{client.domain}: order {order_id} not found")
    return order


def _ours(order: dict[str, Any], marker: str) -> dict[str, Any] | None:
    return next((r for r in order.get("refunds") or [] if marker in str(r.get("note") or "")), None)


FAILED = ("FAILURE", "ERROR")


def _declined(refund: dict[str, Any]) -> bool:
    transactions = ((refund.get("transactions") or {}).get("nodes")) or []
    return bool(transactions) and all(t.get("status") in FAILED for t in transactions)


def _outcome(refund: dict[str, Any], currency: str, *, already: bool) -> CancelOutcome:
    """The refund as done, or RefundRefused when its gateway declined every transaction."""
    if _declined(refund):
        failed = refund["transactions"]["nodes"]
        words = ", ".join(f"{t.get('gateway') or 'the gateway'} {t.get('status')}"
                          + (f" ({t['errorCode']})" if t.get("errorCode") else "") for t in failed)
        raise RefundRefused([f"the payment gateway declined the refund: {words}"], code=failed[0].get("errorCode"))
    return CancelOutcome(numeric_id(str(refund["id"])), _amount(refund.get("totalRefundedSet")), currency,
                         already_done=already)


def cancel_units(client: ShopifyClient, order_id: str, request: CancelRequest) -> CancelOutcome:
    """Re-read, then refund the units (or cancel the whole order) once; see the module docstring."""
    order = _order_state(client, order_id)
    currency = str(order.get("currencyCode") or "")
    for earlier in request.earlier_markers:
        found = _ours(order, earlier)
        if found is not None and not _declined(found):
            return _outcome(found, currency, already=True)  # it went through after all
    mine = _ours(order, request.marker)
    if mine is not None:
        return _outcome(mine, currency, already=True)
    note = (request.note + " " if request.note else "") + f"[{request.marker}]"
    if request.whole_order:
        return _cancel_order(client, order_id, order, request, note, currency)
    return _refund_lines(client, order_id, order, request, note, currency)


def _refund_lines(client: ShopifyClient, order_id: str, order: dict[str, Any], request: CancelRequest, note: str,
                  currency: str) -> CancelOutcome:
    open_units = {numeric_id(str(n["id"])): int(n.get("unfulfilledQuantity") or 0)
                  for n in (order.get("lineItems") or {}).get("nodes") or []}
    restock = "CANCEL" if request.restock else "NO_RESTOCK"
    units = {line.line_id: min(line.quantity, open_units.get(line.line_id, 0)) for line in request.lines}
    lines: list[dict[str, Any]] = [{"lineItemId": gid("LineItem", line_id), "quantity": count, "restockType": restock}
                                   for line_id, count in units.items() if count > 0]
    if not lines:
        raise RefundRefused([f"{client.domain}: order {order_id} has none of these units left unfulfilled to cancel"])
    order_gid = gid("Order", order_id)
    suggested = client.execute(docs.SUGGESTED_REFUND_QUERY, {"id": order_gid, "refundLineItems": lines,
                                                              "refundShipping": False, "suggestFullRefund": False})
    suggestion = ((suggested.get("order") or {}).get("suggestedRefund")) or {}
    transactions = [{"orderId": order_gid, "parentId": (t.get("parentTransaction") or {}).get("id"),
                     "amount": _amount(t.get("amountSet")), "gateway": t.get("gateway") or "", "kind": "REFUND"}
                    for t in suggestion.get("suggestedTransactions") or []]
    variables = {"key": request.marker, "input": {"orderId": order_gid, "note": note, "notify": False,
                                                  "refundLineItems": lines, "transactions": transactions}}
    try:
        payload = client.mutate(docs.REFUND_CREATE_MUTATION, variables, "refundCreate")
    except RefundRefused:
        raise
    except UserError as error:
        raise RefundRefused(error.messages, status=error.status, code=error.code) from None
    return _outcome(payload["refund"], currency, already=False)


def _cancel_order(client: ShopifyClient, order_id: str, order: dict[str, Any], request: CancelRequest, note: str,
                  currency: str) -> CancelOutcome:
    if order.get("cancelledAt"):
        return CancelOutcome("", "0.00", currency, already_done=True)  # cancelled already (by the merchant?)
    suggested = client.execute(docs.SUGGESTED_REFUND_QUERY, {"id": gid("Order", order_id), "refundLineItems": [],
                                                              "refundShipping": True, "suggestFullRefund": True})
    expected = _amount(((suggested.get("order") or {}).get("suggestedRefund") or {}).get("amountSet"))
    data = client.execute(docs.ORDER_CANCEL_MUTATION, {"orderId": gid("Order", order_id), "restock": request.restock,
                                                       "staffNote": note[:255]})
    payload = data.get("orderCancel") or {}
    errors = payload.get("orderCancelUserErrors") or []
    if errors:
        raise RefundRefused([str(e.get("message") or "refused") for e in errors],
                            code=next((e.get("code") for e in errors if e.get("code")), None))
    after = _order_state(client, order_id)
    mine = _ours(after, request.marker)
    if mine is None:  # Shopify refunds a cancelled order in a background job: it shows up shortly
        return CancelOutcome(numeric_id(str((payload.get("job") or {}).get("id") or "")), expected, currency)
    return _outcome(mine, currency, already=False)
