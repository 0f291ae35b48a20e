"""WooCommerce cancel and refund: `POST /orders/<id>/refunds` with the amounts WooCommerce itself would compute.

WooCommerce does not compute a refund: the caller states it. This states it the way WooCommerce's own
order screen does: per line, the line's total and each tax rate's tax divided by the quantity ordered
and multiplied by the units refunded (rounded to cents); for a whole order also the shipping lines and
their tax; `amount` is the sum. `api_refund: true` has the payment gateway pay it back, `api_restock`
puts the units back in stock. The connector's marker goes into the refund's `reason`, so a re-read
(`GET /orders/<id>/refunds`) finds a refund already made. A whole order is then set to `cancelled`.
A gateway refusal comes back as 500 `woocommerce_rest_cannot_create_order_refund` and is raised as
`RefundRefused` with the gateway's message, not retried.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.errors import InputError, RefundRefused, TransportError
from connector.platforms.base import CancelOutcome, CancelRequest
from connector.platforms.woocommerce.client import WooClient

CANNOT_REFUND = "woocommerce_rest_cannot_create_order_refund"
CENT = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def refunded_quantities(refunds: list[dict[str, Any]]) -> dict[str, int]:
    """Units already refunded per line item id (refund line items carry negative quantities)."""
    done: dict[str, int] = {}
    for refund in refunds:
        for item in refund.get("line_items") or []:
            meta = {m.get("key"): m.get("value") for m in item.get("meta_data") or []}
            line_id = str(meta.get("_refunded_item_id") or "")
            if line_id:
                done[line_id] = done.get(line_id, 0) + abs(int(item.get("quantity") or 0))
    return done


def _share(item: dict[str, Any], units: int) -> tuple[Decimal, list[dict[str, str]]]:
    ordered = int(item.get("quantity") or 0)
    if ordered <= 0:
        return Decimal(0), []
    total = _cents(_money(item.get("total")) / ordered * units)
    taxes = [{"id": str(tax["id"]), "refund_total": str(_cents(_money(tax.get("total")) / ordered * units))}
             for tax in item.get("taxes") or [] if _money(tax.get("total"))]
    return total, taxes


def refund_body(order: dict[str, Any], refunds: list[dict[str, Any]], request: CancelRequest) -> dict[str, Any]:
    """The refund WooCommerce's order screen would make for `request` (see the module docstring)."""
    items = {str(item["id"]): item for item in order.get("line_items") or []}
    done = refunded_quantities(refunds)
    lines: list[dict[str, Any]] = []
    amount = Decimal(0)
    for wanted in request.lines:
        item = items.get(wanted.line_id)
        if item is None:
            raise InputError(f"order {order.get('id')}", f"has no line item {wanted.line_id}")
        units = min(wanted.quantity, int(item.get("quantity") or 0) - done.get(wanted.line_id, 0))
        if units <= 0:
            continue
        total, taxes = _share(item, units)
        lines.append({"id": int(wanted.line_id), "quantity": units, "refund_total": str(total), "refund_tax": taxes})
        amount += total + sum(_money(t["refund_total"]) for t in taxes)
    if request.whole_order:
        for shipping in order.get("shipping_lines") or []:
            total = _cents(_money(shipping.get("total")))
            taxes = [{"id": str(t["id"]), "refund_total": str(_cents(_money(t.get("total"))))}
                     for t in shipping.get("taxes") or [] if _money(t.get("total"))]
            if total or taxes:
                lines.append({"id": int(shipping["id"]), "quantity": 0, "refund_total": str(total), "refund_tax": taxes})
                amount += total + sum(_money(t["refund_total"]) for t in taxes)
    reason = (request.note + " " if request.note else "") + f"[{request.marker}]"
    return {"amount": str(_cents(amount)), "reason": reason, "line_items": lines, "api_refund": True,
            "api_restock": request.restock}


def cancel_units(client: WooClient, order_id: str, request: CancelRequest) -> CancelOutcome:
    """Re-read, refund once (found again by its marker), and cancel a whole order."""
    path = f"orders/{int(order_id)}"
    order = client.get(path)
    currency = str(order.get("currency") or "")
    refunds = list(client.paginate(f"{path}/refunds"))
    markers = (request.marker, *request.earlier_markers)  # WooCommerce keeps no declined refund
    mine = next((r for r in refunds if any(m in str(r.get("reason") or "") for m in markers)), None)
    if mine is not None:
        outcome = CancelOutcome(str(mine["id"]), str(_cents(_money(mine.get("amount")))), currency, already_done=True)
    else:
        body = refund_body(order, refunds, request)
        try:
            response = client.request("POST", f"{path}/refunds", json_body=body, attempts=1)
        except TransportError as error:
            if error.code == CANNOT_REFUND:
                raise RefundRefused([_gateway_words(str(error))], status=error.status, code=error.code) from None
            raise
        made = response.json()
        outcome = CancelOutcome(str(made["id"]), str(_cents(_money(made.get("amount")))), currency)
    if request.whole_order and order.get("status") != "cancelled":
        client.put(path, {"status": "cancelled"})
    return outcome


def _gateway_words(message: str) -> str:
    """The store's own sentence from the client's "host: POST path: server error 500 (code: words)"."""
    marker = f"({CANNOT_REFUND}: "
    if marker in message:
        return message.split(marker, 1)[1].rstrip(")")
    return message
