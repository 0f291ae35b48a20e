"""Shopify cancel and refund against the sandbox store: suggestedRefund's amounts, restock, orderCancel,
refusals, a repeat after a crash, and shipping the in-stock part now (fulfillmentOrderSplit)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.errors import RefundRefused
from connector.platforms.base import CancelLine, CancelRequest, ReadySplit
from connector.platforms.shopify.adapter import ShopifyPlatform
from sandbox.shopify.state import ShopifyState
from tests.cancels.conftest import LOCATION



def _levels(state: ShopifyState, sku: str) -> dict[str, int]:
    variant = state.variants_by_sku()[sku]
    return dict(state.levels[(variant.inventory_item_id, LOCATION)])


def test_partial_cancel_refunds_the_backordered_line_with_tax_and_restocks(
        shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    committed = _levels(state, "SHIRT")["committed"]
    outcome = platform.cancel_units("6001", CancelRequest((CancelLine("5011", 2),), False, "bc:m-6001", note="Cancel"))
    assert (outcome.amount, outcome.currency, outcome.already_done) == ("54.00", "USD", False)  # 2 × 25 + 8 % tax
    order = state.orders[6001]
    assert [(r.amount, r.shipping, [(p.line_item_id, p.quantity, p.restock_type) for p in r.lines])
            for r in order.refunds] == [(Decimal("54.00"), 0, [(5011, 2, "CANCEL")])]
    assert order.refunds[0].idempotency_key == "bc:m-6001" and "[bc:m-6001]" in (order.refunds[0].note or "")
    shirt = next(line for line in order.lines if line.id == 5011)
    assert (shirt.current, shirt.unfulfilled_quantity) == (0, 0)
    assert _levels(state, "SHIRT")["committed"] == committed - 2  # restocked: back from committed to available
    assert order.cancelled_at is None and order.financial_status == "PARTIALLY_REFUNDED"
    remote = platform.get_order("6001")
    assert remote is not None and [(line.platform_id, line.open_quantity) for line in remote.lines] == [
        ("5011", 0), ("5012", 1)]


def test_whole_order_cancel_refunds_items_tax_and_shipping(shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    outcome = platform.cancel_units("6002", CancelRequest((CancelLine("5021", 1),), True, "bc:m-6002"))
    assert outcome.amount == "32.40"  # 25 + 2.00 tax + 5.00 shipping + 0.40 shipping tax
    order = state.orders[6002]
    assert order.cancelled_at is not None and "[bc:m-6002]" in (order.cancel_note or "")
    assert order.financial_status == "REFUNDED" and str(order.refunds[0].shipping) == "5.40"


def test_refusals_carry_shopifys_words_and_keep_no_refund(shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    with pytest.raises(RefundRefused, match="manual payment method"):
        platform.cancel_units("6003", CancelRequest((CancelLine("5031", 1),), False, "bc:m-6003"))
    state.gateway_refusals[6002] = "Card declined by the issuer (do not honor)"
    with pytest.raises(RefundRefused, match="do not honor"):
        platform.cancel_units("6002", CancelRequest((CancelLine("5021", 1),), True, "bc:m-6002"))
    assert state.orders[6002].refunds == [] and state.orders[6002].cancelled_at is None
    assert state.orders[6003].refunds == []


def test_a_repeat_after_a_crash_is_found_by_its_marker(shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    request = CancelRequest((CancelLine("5011", 2),), False, "bc:m-6001")
    first = platform.cancel_units("6001", request)
    again = platform.cancel_units("6001", request)
    assert again.already_done and (again.refund_id, again.amount) == (first.refund_id, first.amount)
    assert len(state.orders[6001].refunds) == 1


def test_ship_ready_splits_the_fulfillment_order_and_holds_only_the_backordered_units(
        shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    split = ReadySplit(ready=(CancelLine("5012", 1),), held=(CancelLine("5011", 2),))
    assert platform.ship_ready("6001", split) is True
    fos = state.orders[6001].fulfillment_orders
    by_state = sorted((fo.status, sorted((fl.line_item_id, fl.remaining_quantity) for fl in fo.lines)) for fo in fos)
    assert by_state == [("ON_HOLD", [(5011, 2)]), ("OPEN", [(5012, 1)])]
    assert platform.ship_ready("6001", split) is False  # already split and held


def test_a_refund_whose_transaction_the_gateway_declined_is_refused_now_and_on_a_re_read(
        shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    state.declined_refunds[6001] = "DO_NOT_HONOR"
    request = CancelRequest((CancelLine("5011", 2),), False, "bc:m-6001")
    for _attempt in range(2):  # the second finds the failed refund by its marker and says the same
        with pytest.raises(RefundRefused, match=r"declined the refund: shopify_payments FAILURE \(DO_NOT_HONOR\)"):
            platform.cancel_units("6001", request)
    assert [refund.amount for refund in state.orders[6001].refunds] == [0]


def test_a_retry_after_a_decline_refunds_under_a_new_key(shopify_store: tuple[ShopifyState, ShopifyPlatform]) -> None:
    state, platform = shopify_store
    state.declined_refunds[6001] = "DO_NOT_HONOR"
    with pytest.raises(RefundRefused):
        platform.cancel_units("6001", CancelRequest((CancelLine("5011", 2),), False, "bc:m-6001"))
    retried = CancelRequest((CancelLine("5011", 2),), False, "bc:m-6001-retry1", earlier_markers=("bc:m-6001",))
    outcome = platform.cancel_units("6001", retried)
    assert (outcome.amount, outcome.already_done) == ("54.00", False)
    assert [str(refund.amount) for refund in state.orders[6001].refunds] == ["0", "54.00"]
