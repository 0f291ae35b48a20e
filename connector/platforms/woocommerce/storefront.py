"""The storefront ETA on WooCommerce: product and variation meta read by the Backorder ETA plugin.

Simple products (and parents whose stock their variations share) are written through `products/batch`;
variations with stock of their own through `products/<parent>/variations/batch`, which is the only batch
WooCommerce accepts for them (`products/batch` refuses variation ids). Each request carries at most
100 updates. All four keys are written every time, an empty string meaning "none", so a range or text
that went away never lingers; the plugin reads an empty value as no ETA.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connector.errors import PlatformError
from connector.platforms.base import StorefrontEta
from connector.platforms.woocommerce.client import WooClient

META_ETA, META_EARLIEST, META_LATEST, META_TEXT = ("_backorder_eta", "_backorder_eta_earliest",
                                                   "_backorder_eta_latest", "_backorder_eta_text")
PER_CALL = 100  # WooCommerce's default woocommerce_rest_batch_items_limit


def storefront_meta(item: StorefrontEta) -> list[dict[str, str]]:
    """The plugin's four meta entries for `item` (all empty when it clears)."""
    ranged = item.eta is not None and item.earliest is not None and item.latest is not None
    values = {
        META_ETA: item.eta.isoformat() if item.eta else "",
        META_EARLIEST: item.earliest.isoformat() if ranged and item.earliest else "",
        META_LATEST: item.latest.isoformat() if ranged and item.latest else "",
        META_TEXT: (item.text or "") if item.eta else "",
    }
    return [{"key": key, "value": value} for key, value in values.items()]


def split_target(target: str) -> tuple[int | None, int]:
    """`"42"` -> (None, 42), a product; `"42/57"` -> (42, 57), variation 57 of product 42."""
    parent, _, own = target.rpartition("/")
    try:
        return (int(parent) if parent else None), int(own)
    except ValueError:
        raise PlatformError(f"not a WooCommerce product or variation reference: {target!r}") from None


def write_etas(client: WooClient, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
    """Write each item's meta in batches of 100; target -> None, or the store's reason for refusing it."""
    groups: dict[int | None, list[tuple[str, dict[str, Any]]]] = {}
    for item in items:
        parent, own = split_target(item.target)
        groups.setdefault(parent, []).append((item.target, {"id": own, "meta_data": storefront_meta(item)}))
    result: dict[str, str | None] = {}
    for parent, updates in groups.items():
        path = "products/batch" if parent is None else f"products/{parent}/variations/batch"
        for start in range(0, len(updates), PER_CALL):
            chunk = updates[start:start + PER_CALL]
            answer = client.post(path, {"update": [update for _, update in chunk]}) or {}
            errors = {str(entry.get("id")): entry.get("error") for entry in answer.get("update", [])
                      if isinstance(entry, dict) and entry.get("error")}
            for target, update in chunk:
                error = errors.get(str(update["id"]))
                result[target] = f"{error.get('code')}: {error.get('message')}" if error else None
    return result
