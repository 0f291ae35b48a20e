"""WooCommerce cancel and refund against the sandbox store: amounts with tax and shipping, restock, refusals, once."""

from __future__ import annotations

import pytest

from connector.errors import RefundRefused
from connector.platforms.base import CancelLine, CancelRequest
from connector.platforms.woocommerce.adapter import WooPlatform
from sandbox.common import ServerThread
from tests.cancels.conftest import state_of


def test_partial_cancel_refunds_only_the_backordered_line_with_its_tax(woo_store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = woo_store
    outcome = platform.cancel_units("501", CancelRequest((CancelLine("5011", 2),), False, "bc:m-501"))
    assert (outcome.amount, outcome.currency, outcome.already_done) == ("95.20", "EUR", False)  # 2 × 40 + 19 % tax
    state = state_of(server)
    order = state.orders[501]
    assert [(r.amount, [(p.item_id, p.quantity, p.total, p.tax) for p in r.lines]) for r in order.refunds] == [
        (95.2, [(5011, 2, 80.0, 15.2)])]
    assert order.status == "processing"  # the cup still ships; shipping is not refunded
    assert state.products[10].stock_quantity == -2  # restocked: two fewer units owed
    remote = platform.get_order("501")
    assert remote is not None and [(line.platform_id, line.quantity) for line in remote.lines] == [("5011", 0), ("5012", 1)]


def test_whole_order_cancel_refunds_shipping_and_sets_cancelled_without_double_restock(
        woo_store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = woo_store
    outcome = platform.cancel_units("502", CancelRequest((CancelLine("5021", 2),), True, "bc:m-502"))
    assert outcome.amount == "101.03"  # 80 + 15.20 tax + 4.90 shipping + 0.93 shipping tax
    state = state_of(server)
    assert state.orders[502].status == "cancelled"
    assert state.products[10].stock_quantity == -2  # back once, by the refund, not again by the cancel
    remote = platform.get_order("502")
    assert remote is not None and not remote.is_open


def test_gateway_refusal_raises_with_the_gateways_words(woo_store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = woo_store
    with pytest.raises(RefundRefused, match="does not support automatic refunds"):
        platform.cancel_units("503", CancelRequest((CancelLine("5031", 1),), True, "bc:m-503"))
    state_of(server).gateway_refusals[501] = "Stripe: the card's account is closed"
    with pytest.raises(RefundRefused) as refused:
        platform.cancel_units("501", CancelRequest((CancelLine("5011", 2),), False, "bc:m-501"))
    assert str(refused.value) == "Stripe: the card's account is closed"
    assert state_of(server).orders[501].refunds == [] and state_of(server).orders[503].status == "processing"


def test_a_repeat_after_a_crash_finds_the_refund_by_its_marker(woo_store: tuple[ServerThread, WooPlatform]) -> None:
    server, platform = woo_store
    request = CancelRequest((CancelLine("5021", 2),), True, "bc:m-502")
    first = platform.cancel_units("502", request)
    again = platform.cancel_units("502", request)  # the worker died before recording the first
    assert again.already_done and (again.refund_id, again.amount) == (first.refund_id, first.amount)
    assert len(state_of(server).orders[502].refunds) == 1
