"""The sandbox shirt the storefront tests share: one variant per case the ETA block must tell apart."""

from __future__ import annotations

import pytest

from sandbox.shopify.state import ShopifyState
from tests.storefront.storefront_support import load_sandbox, sold_out


@pytest.fixture
def shirt_state() -> ShopifyState:
    """The sandbox shirt with one variant per case the block must tell apart (today is 2 March 2026)."""
    state = load_sandbox()
    sold_out(state, "SHIRT-BLUE-L", policy="CONTINUE")
    sold_out(state, "SHIRT-RED-S")  # DENY: cannot be ordered
    sold_out(state, "SHIRT-RED-M", policy="CONTINUE")
    sold_out(state, "SHIRT-RED-L", policy="CONTINUE", tracked=False)
    sold_out(state, "SHIRT-BLACK-S", policy="CONTINUE")
    sold_out(state, "SHIRT-BLACK-M", policy="CONTINUE")
    sold_out(state, "SHIRT-BLACK-L", policy="CONTINUE")
    return state
