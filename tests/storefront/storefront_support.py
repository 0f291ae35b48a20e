"""Sandbox products as Liquid objects and a reader for what the ETA block rendered, shared by the storefront tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from sandbox.shopify.model import app_namespace
from sandbox.shopify.state import ShopifyState
from tests.storefront.shopify_liquid import (
    EXTENSION_DIR,
    ShopifyEnvironment,
    VariantStock,
    metafield,
    product_drop,
    variant_drop,
)

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY_SEED = ROOT / "examples" / "sandbox" / "shopify_seed.json"
SHIRT = 8000000000000  # "Organic cotton shirt" in the Shopify sandbox seed: nine variants
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def load_sandbox() -> ShopifyState:
    return ShopifyState.load_seed(SHOPIFY_SEED, now=lambda: NOW)


def eta_fields(eta: str | None = None, earliest: str | None = None, latest: str | None = None,
               text: str | None = None) -> dict[str, object]:
    """The connector's `$app:backorder` metafields as the storefront serves them: one `json` metafield `eta`
    whose value is the parsed object, as the connector writes it (`connector.platforms.shopify.storefront`)."""
    value = {key: given for key, given in (("date", eta), ("earliest", earliest), ("latest", latest),
                                           ("text", text)) if given is not None}
    return {"eta": metafield(value, "json")} if value else {}


def served_fields(state: ShopifyState, sku: str) -> dict[str, object]:
    """What the sandbox serves in `$app:backorder` on the variant holding `sku` (after a connector push)."""
    variant = state.variants_by_sku()[sku]
    found = variant.metafield(app_namespace("$app:backorder"), "eta")
    return {"eta": metafield(json.loads(found.value), found.type)} if found else {}


def sold_out(state: ShopifyState, sku: str, *, policy: str | None = None, tracked: bool = True) -> None:
    """No units left at any location of the sandbox (and, if given, a new inventory policy)."""
    variant = state.variants_by_sku()[sku]
    for location in state.locations:
        state.set_stock({"sku": sku, "locationId": location.id, "quantities": {"available": 0}})
    if policy is not None:
        variant.inventory_policy = policy
    variant.tracked = tracked


SHIRT_FIELDS = {
    "SHIRT-BLUE-S": eta_fields("2026-03-12"),  # in stock: a leftover ETA must not show
    "SHIRT-BLUE-M": eta_fields("2026-03-12"),  # the seed oversold it (available -28, policy CONTINUE)
    "SHIRT-BLUE-L": eta_fields("2026-03-14", "2026-03-12", "2026-03-16"),
    "SHIRT-RED-S": eta_fields("2026-03-12"),  # out of stock and not sellable
    # SHIRT-RED-M: out of stock, sellable, no ETA known
    "SHIRT-RED-L": eta_fields("2026-03-12"),  # stock not tracked
    "SHIRT-BLACK-S": eta_fields(None, "2026-03-30", "2026-04-02"),
    "SHIRT-BLACK-M": eta_fields("2026-02-20"),  # in the past: stale, never shown
    "SHIRT-BLACK-L": eta_fields("2027-01-08"),  # next year: the year is shown
}


def variant_stock(state: ShopifyState, variant_id: int) -> VariantStock:
    """Liquid's view of a sandbox variant: `inventory_quantity` is `available` summed over locations."""
    variant = state.variants[variant_id]
    quantity = sum(levels.get("available", 0) for _, levels in state.item_levels(variant.inventory_item_id))
    return VariantStock(tracked=variant.tracked, quantity=quantity, policy=variant.inventory_policy)


def sandbox_product(state: ShopifyState, product_id: int, metafields_by_sku: Mapping[str, Mapping[str, object]],
                    selected_sku: str | None = None) -> dict[str, object]:
    """A sandbox product as the storefront's `product`, with the connector's metafields on the named variants."""
    variants = [v for v in state.variants.values() if v.product_id == product_id]
    assert variants, f"no product {product_id} in the sandbox"
    drops = [variant_drop(v.id, v.title, v.sku, variant_stock(state, v.id), metafields_by_sku.get(v.sku or ""))
             for v in variants]
    selected = next((v.id for v in variants if v.sku == selected_sku), None)
    return product_drop(product_id, variants[0].product_title, drops, selected)


def render_eta_block(product: Mapping[str, object], *, locale: str = "en", primary_locale: str = "en",
                     show_range: bool = True, design_mode: bool = False, now: datetime = NOW) -> str:
    env = ShopifyEnvironment(EXTENSION_DIR, locale=locale, primary_locale=primary_locale, now=now,
                             design_mode=design_mode)
    return env.render_block("eta", product=product, block={"settings": {"product": product, "show_range": show_range}})


@dataclass
class RenderedBlock:
    """The block's container attributes and its lines: variant id -> (text, hidden)."""

    container: dict[str, str | None] | None = None
    lines: dict[str, tuple[str, bool]] = field(default_factory=dict)
    placeholder: str | None = None

    @property
    def visible(self) -> list[str]:
        return [text for text, hidden in self.lines.values() if not hidden]


class _BlockReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.block = RenderedBlock()
        self._line: tuple[str, bool] | None = None
        self._text: list[str] = []
        self._in_placeholder = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "data-backorder-eta" in values:
            assert self.block.container is None, "the block rendered two containers"
            self.block.container = values
        elif tag == "p" and "data-variant-id" in values:
            self._line = (values["data-variant-id"] or "", "hidden" in values)
            self._text = []
        elif tag == "p" and "backorder-eta__placeholder" in (values.get("class") or ""):
            self._in_placeholder = True
            self._text = []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "p":
            return
        if self._line is not None:
            variant_id, hidden = self._line
            assert variant_id not in self.block.lines, f"two lines for variant {variant_id}"
            self.block.lines[variant_id] = ("".join(self._text).strip(), hidden)
            self._line = None
        elif self._in_placeholder:
            self.block.placeholder = "".join(self._text).strip()
            self._in_placeholder = False


def read_block(html: str) -> RenderedBlock:
    reader = _BlockReader()
    reader.feed(html)
    reader.close()
    return reader.block
