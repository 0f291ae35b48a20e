"""Refunds, cancels and fulfillment-order splits of the Shopify sandbox: money as Shopify computes it.

`Order.suggestedRefund(refundLineItems, refundShipping, suggestFullRefund)` prices the units asked for
(unit price × quantity, tax at the order's rate prorated from the line's tax), adds the shipping left to
refund when asked, and suggests one REFUND transaction against the order's sale. `refundCreate` (2026-04:
an `@idempotent(key:)` is required; a key seen before answers the refund it made) checks quantities and
amounts, then asks the gateway; `restockType: CANCEL` takes unfulfilled units off the order and its
fulfillment orders and returns them from committed to available. `orderCancel` refunds what is left to
the original payment method (`refundMethod.originalPaymentMethodsRefund`), restocks when asked, records
the staff note and closes the order. `fulfillmentOrderSplit` moves line quantities to a new fulfillment
order.

A gateway decline staged in `ShopifyState.declined_refunds` (order id -> errorCode) is recorded as Shopify
records it: a refund of nothing whose transaction has status FAILURE and that errorCode.

Simplifications: a gateway refusal (gateway `manual`, or one staged in `ShopifyState.gateway_refusals`)
answers as `userErrors` (orderCancel: `orderCancelUserErrors`) with the gateway's message and keeps no
refund, where Shopify records a failed transaction; orderCancel's job is done at once; one tax line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from graphql.language import ArgumentNode, StringValueNode, VariableNode

from sandbox.shopify.model import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    LineItem,
    Order,
    Refund,
    RefundLine,
    gid,
)
from sandbox.shopify.resolvers import require_gid, require_scope
from sandbox.shopify.state import ShopifyState

CENT = Decimal("0.01")
MANUAL_GATEWAY = "manual"
NO_MANUAL_REFUNDS = "Refunds to a manual payment method must be made outside Shopify (gateway: manual)."


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def bag(value: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": str(cents(value)), "currencyCode": currency}
    return {"shopMoney": dict(money), "presentmentMoney": dict(money)}


def line_tax(order: Order, line: LineItem) -> Decimal:
    return cents(line.unit_price * line.quantity * order.tax_rate)


def unit_share_tax(order: Order, line: LineItem, units: int) -> Decimal:
    """The tax of `units` of the line: the line's tax prorated, as Shopify's refund screen does."""
    if line.quantity == 0:
        return Decimal(0)
    return cents(line_tax(order, line) * units / line.quantity)


def shipping_with_tax(order: Order) -> tuple[Decimal, Decimal]:
    return cents(order.shipping_price), cents(order.shipping_price * order.tax_rate)


def order_total(order: Order) -> Decimal:
    items = sum((cents(line.unit_price * line.quantity) + line_tax(order, line) for line in order.lines), Decimal(0))
    shipping, tax = shipping_with_tax(order)
    return items + shipping + tax


def refunded(order: Order) -> Decimal:
    return sum((refund.amount for refund in order.refunds), Decimal(0))


def shipping_left(order: Order) -> Decimal:
    shipping, tax = shipping_with_tax(order)
    return shipping + tax - sum((refund.shipping for refund in order.refunds), Decimal(0))


def refunded_units(order: Order, line_id: int) -> int:
    return sum(part.quantity for refund in order.refunds for part in refund.lines if part.line_item_id == line_id)


class Pricing:
    """What a refund of some units (and maybe the shipping) of one order comes to."""

    def __init__(self, order: Order, wanted: list[dict[str, Any]], shipping: bool) -> None:
        lines = {line.id: line for line in order.lines}
        self.order = order
        self.parts: list[RefundLine] = []
        self.errors: list[str] = []
        for entry in wanted:
            line = lines.get(require_gid(entry["lineItemId"], "LineItem") or -1)
            if line is None:
                self.errors.append(f"Line item {entry['lineItemId']} does not belong to this order")
                continue
            units = int(entry["quantity"])
            restock = entry.get("restockType") or "NO_RESTOCK"
            left = line.quantity - refunded_units(order, line.id)
            if units <= 0 or units > left:
                self.errors.append(f"Quantity {units} of line item {line.id} is more than the {left} refundable")
                continue
            if restock == "CANCEL" and units > line.unfulfilled_quantity:
                self.errors.append(f"Cannot cancel {units} of line item {line.id}: only {line.unfulfilled_quantity} "
                                   "are unfulfilled")
                continue
            if restock == "LEGACY_RESTOCK":
                self.errors.append("restockType LEGACY_RESTOCK is not accepted when creating refunds")
                continue
            self.parts.append(RefundLine(line.id, units, restock, cents(line.unit_price * units),
                                         unit_share_tax(order, line, units)))
        self.subtotal = sum((p.subtotal for p in self.parts), Decimal(0))
        self.tax = sum((p.tax for p in self.parts), Decimal(0))
        self.shipping = shipping_left(order) if shipping else Decimal(0)
        self.amount = self.subtotal + self.tax + self.shipping

    def view(self, currency: str, lines: dict[int, Any]) -> dict[str, Any]:
        order = self.order
        maximum = order_total(order) - refunded(order)
        ship_tax = cents(order.shipping_price * order.tax_rate) if self.shipping else Decimal(0)
        return {
            "__typename": "SuggestedRefund",
            "amountSet": bag(self.amount, currency), "subtotalSet": bag(self.subtotal, currency),
            "discountedSubtotalSet": bag(self.subtotal, currency), "totalTaxSet": bag(self.tax + ship_tax, currency),
            "totalCartDiscountAmountSet": bag(Decimal(0), currency), "totalDutiesSet": bag(Decimal(0), currency),
            "maximumRefundableSet": bag(maximum, currency), "refundDuties": [], "suggestedRefundMethods": [],
            "shipping": {"amountSet": bag(self.shipping - ship_tax, currency), "taxSet": bag(ship_tax, currency),
                         "maximumRefundableSet": bag(shipping_left(order), currency)},
            "refundLineItems": [refund_line_view(part, lines, currency) for part in self.parts],
            "suggestedTransactions": [] if self.amount <= 0 else [{
                "__typename": "SuggestedOrderTransaction", "kind": "SUGGESTED_REFUND", "gateway": order.gateway,
                "formattedGateway": order.gateway.replace("_", " ").title(), "amountSet": bag(self.amount, currency),
                "maximumRefundableSet": bag(maximum, currency), "accountNumber": None, "paymentDetails": None,
                "parentTransaction": transaction_view(order, order.sale_id, "SALE", order_total(order))}],
        }


def refund_line_view(part: RefundLine, lines: dict[int, Any], currency: str) -> dict[str, Any]:
    return {"__typename": "RefundLineItem", "id": None, "lineItem": lines[part.line_item_id], "quantity": part.quantity,
            "restockType": part.restock_type, "restocked": part.restock_type in ("CANCEL", "RETURN"),
            "priceSet": bag(part.subtotal / part.quantity if part.quantity else Decimal(0), currency),
            "subtotalSet": bag(part.subtotal, currency), "totalTaxSet": bag(part.tax, currency), "location": None}


def transaction_view(order: Order, transaction_id: int, kind: str, amount: Decimal,
                     parent: dict[str, Any] | None = None, error_code: str | None = None) -> dict[str, Any]:
    return {"__typename": "OrderTransaction", "id": gid("OrderTransaction", transaction_id), "kind": kind,
            "status": "FAILURE" if error_code else "SUCCESS", "gateway": order.gateway, "formattedGateway": order.gateway.replace("_", " ").title(),
            "amountSet": bag(amount, order.currency), "errorCode": error_code, "parentTransaction": parent,
            "manualPaymentGateway": order.gateway == MANUAL_GATEWAY, "test": True}


def idempotency_key(info: GraphQLResolveInfo) -> str | None:
    """The `@idempotent(key:)` on the field being resolved, or None."""
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value != "idempotent":
            continue
        for argument in directive.arguments or ():
            if isinstance(argument, ArgumentNode) and argument.name.value == "key":
                value = argument.value
                if isinstance(value, VariableNode):
                    found = (info.variable_values or {}).get(value.name.value)
                    return str(found) if found else None
                if isinstance(value, StringValueNode):
                    return value.value
    return None


class RefundMutations:
    """refundCreate, orderCancel and fulfillmentOrderSplit over one sandbox state."""

    def __init__(self, state: ShopifyState, views: Any, order_of: Any, fulfillment_order_of: Any) -> None:
        self.state = state
        self.views = views
        self.order_of = order_of
        self.fulfillment_order_of = fulfillment_order_of

    def _refusal(self, order: Order) -> str | None:
        staged = self.state.gateway_refusals.pop(order.id, None)
        return NO_MANUAL_REFUNDS if order.gateway == MANUAL_GATEWAY else staged

    def _apply(self, order: Order, pricing: Pricing, note: str | None, key: str | None) -> Refund:
        refund = Refund(self.state.new_id(), self.state.new_id(), self.state.now(), note, pricing.amount,
                        pricing.parts, pricing.shipping, key)
        order.refunds.append(refund)
        lines = {line.id: line for line in order.lines}
        changed = []
        for part in pricing.parts:
            line = lines[part.line_item_id]
            line.current_quantity = line.current - part.quantity
            if part.restock_type == "CANCEL":
                line.unfulfilled_quantity -= part.quantity
                self._take_off_fulfillment_orders(order, line.id, part.quantity)
                changed.append(self.state._move_stock(line, available=part.quantity, committed=-part.quantity))
            elif part.restock_type == "NO_RESTOCK" and line.unfulfilled_quantity:
                units = min(part.quantity, line.unfulfilled_quantity)
                line.unfulfilled_quantity -= units
                self._take_off_fulfillment_orders(order, line.id, units)
                changed.append(self.state._move_stock(line, committed=-units, on_hand=-units))
        order.financial_status = "REFUNDED" if refunded(order) >= order_total(order) else "PARTIALLY_REFUNDED"
        if key:
            self.state.idempotency_keys[key] = refund.id
        self.state.touch(order)
        self.state.notify("refunds/create", order)
        self.state.notify("orders/updated", order)
        for level in filter(None, changed):
            self.state.notify("inventory_levels/update", level)
        return refund

    def _take_off_fulfillment_orders(self, order: Order, line_id: int, units: int) -> None:
        for fo in order.fulfillment_orders:
            for fo_line in fo.lines:
                if units and fo_line.line_item_id == line_id and fo_line.remaining_quantity:
                    taken = min(units, fo_line.remaining_quantity)
                    fo_line.remaining_quantity -= taken
                    fo_line.total_quantity -= taken
                    units -= taken
            if not fo.closed and all(fl.remaining_quantity == 0 for fl in fo.lines):
                fo.closed = True
                fo.holds.clear()

    def refund_create(self, info: GraphQLResolveInfo, values: dict[str, Any]) -> dict[str, Any]:
        require_scope(info, "refundCreate", "write_orders")
        key = idempotency_key(info)
        if not key:
            raise GraphQLError("The @idempotent directive with a key is required for refundCreate (API 2026-04).",
                               extensions={"code": "BAD_REQUEST"})
        order = self.order_of(values["orderId"], info)
        if order is None:
            return {"refund": None, "order": None, "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}]}
        if key in self.state.idempotency_keys:
            done = next(r for r in order.refunds if r.id == self.state.idempotency_keys[key])
            return {"refund": self.views.refund(order, done), "order": self.views.order(order), "userErrors": []}
        shipping = values.get("shipping") or {}
        pricing = Pricing(order, values.get("refundLineItems") or [], bool(shipping.get("fullRefund")))
        if shipping.get("amount") is not None:
            pricing.shipping = min(Decimal(str(shipping["amount"])), shipping_left(order))
            pricing.amount = pricing.subtotal + pricing.tax + pricing.shipping
        errors = [{"field": ["refundLineItems"], "message": message} for message in pricing.errors]
        paid = sum((Decimal(str(t["amount"])) for t in values.get("transactions") or []), Decimal(0))
        if not errors and paid > order_total(order) - refunded(order) and not values.get("allowOverRefunding"):
            errors.append({"field": ["transactions"], "message": "Refund amount exceeds the amount left to refund"})
        if not errors and paid:
            refusal = self._refusal(order)
            if refusal:
                errors.append({"field": ["transactions"], "message": refusal})
        if errors:
            return {"refund": None, "order": None, "userErrors": errors}
        declined = self.state.declined_refunds.pop(order.id, None)
        if declined:  # recorded as Shopify does: a refund with a failed transaction, nothing paid or restocked
            refund = Refund(self.state.new_id(), self.state.new_id(), self.state.now(), values.get("note"), Decimal("0"),
                            [], Decimal("0"), key, declined)
            order.refunds.append(refund)
            self.state.idempotency_keys[key] = refund.id
            return {"refund": self.views.refund(order, refund), "order": self.views.order(order), "userErrors": []}
        pricing.amount = paid
        refund = self._apply(order, pricing, values.get("note"), key)
        return {"refund": self.views.refund(order, refund), "order": self.views.order(order), "userErrors": []}

    def order_cancel(self, info: GraphQLResolveInfo, orderId: str, reason: str, restock: bool,
                     refundMethod: dict[str, Any] | None = None, notifyCustomer: bool = False,
                     staffNote: str | None = None, **_: Any) -> dict[str, Any]:
        require_scope(info, "orderCancel", "write_orders")
        order = self.order_of(orderId, info)

        def refused(code: str, message: str) -> dict[str, Any]:
            error = {"field": ["orderId"], "message": message, "code": code}
            return {"job": None, "orderCancelUserErrors": [error], "userErrors": [error]}

        if order is None:
            return refused("NOT_FOUND", "Order does not exist")
        if order.cancelled_at is not None:
            return refused("INVALID", "Order has already been cancelled")
        if (refundMethod or {}).get("originalPaymentMethodsRefund"):
            wanted = [{"lineItemId": gid("LineItem", line.id), "quantity": line.quantity - refunded_units(order, line.id),
                       "restockType": "CANCEL" if restock else "NO_RESTOCK"}
                      for line in order.lines if line.quantity - refunded_units(order, line.id) > 0
                      and line.unfulfilled_quantity >= line.quantity - refunded_units(order, line.id)]
            pricing = Pricing(order, wanted, shipping=True)
            if pricing.errors:
                return refused("INVALID", "; ".join(pricing.errors))
            refusal = self._refusal(order) if pricing.amount > 0 else None
            if refusal:
                return refused("INVALID", refusal)
            if pricing.amount > 0:
                self._apply(order, pricing, staffNote, None)
        elif restock:
            for line in order.lines:
                if line.unfulfilled_quantity:
                    self.state._move_stock(line, available=line.unfulfilled_quantity, committed=-line.unfulfilled_quantity)
        order.cancel_note = staffNote
        order.cancelled_at = self.state.now()
        order.closed = True
        for line in order.lines:
            line.unfulfilled_quantity = 0
        for fo in order.fulfillment_orders:
            fo.closed = True
            fo.holds.clear()
        self.state.touch(order)
        self.state.notify("orders/cancelled", order)
        self.state.notify("orders/updated", order)
        return {"job": {"__typename": "Job", "id": gid("Job", self.state.new_id()), "done": True, "query": None},
                "orderCancelUserErrors": [], "userErrors": []}

    def split(self, info: GraphQLResolveInfo, splits: list[dict[str, Any]]) -> dict[str, Any]:
        require_scope(info, "fulfillmentOrderSplit", "write_merchant_managed_fulfillment_orders",
                      "write_third_party_fulfillment_orders")
        results = []
        for entry in splits:
            fo = self.fulfillment_order_of(info, entry["fulfillmentOrderId"])
            if fo is None or fo.closed:
                return {"fulfillmentOrderSplits": None, "userErrors": [
                    {"field": ["fulfillmentOrderSplits", "fulfillmentOrderId"], "message": "Fulfillment order not found",
                     "code": "FULFILLMENT_ORDER_NOT_FOUND"}]}
            by_id = {fl.id: fl for fl in fo.lines}
            moved: list[tuple[FulfillmentOrderLine, int]] = []
            for item in entry["fulfillmentOrderLineItems"]:
                fo_line = by_id.get(require_gid(item["id"], "FulfillmentOrderLineItem") or -1)
                units = int(item["quantity"])
                if fo_line is None or units <= 0 or units > fo_line.remaining_quantity:
                    return {"fulfillmentOrderSplits": None, "userErrors": [
                        {"field": ["fulfillmentOrderSplits", "fulfillmentOrderLineItems"],
                         "message": "Invalid quantity to split", "code": "GREATER_THAN"}]}
                moved.append((fo_line, units))
            new = FulfillmentOrder(self.state.new_id(), fo.order_id, fo.location_id, self.state.now(), self.state.now())
            for fo_line, units in moved:
                fo_line.total_quantity -= units
                fo_line.remaining_quantity -= units
                new.lines.append(FulfillmentOrderLine(self.state.new_id(), fo_line.line_item_id, units, units))
            fo.lines = [fl for fl in fo.lines if fl.total_quantity > 0]
            order = self.state.orders[fo.order_id]
            order.fulfillment_orders.append(new)
            self.state.touch(order)
            results.append({"fulfillmentOrder": self.views.fulfillment_order(fo),
                            "remainingFulfillmentOrder": self.views.fulfillment_order(new),
                            "replacementFulfillmentOrder": None})
        return {"fulfillmentOrderSplits": results, "userErrors": []}
