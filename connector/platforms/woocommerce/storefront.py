"""The storefront ETA on WooCommerce: product and variation meta read by the Backorder ETA plugin.

Simple products (and parents whose stock their variations share) are written through core's
`products/batch`. Variations with stock of their own go through the plugin's own route,
`wc-backorder-eta/v1/variations/batch`, which takes variations of any parents, so 1,000 variations of
100 products cost 10 requests. Core's only batch for variations is per parent
(`products/<parent>/variations/batch`; `products/batch` refuses variation ids), which would cost 100:
that is the fallback when the plugin's route is not there (an older plugin, or none: WordPress answers
404 `rest_no_route`). Each request carries at most 100 updates. All four keys are written every time, an
empty string meaning "none", so a range or text that went away never lingers; the plugin reads an empty
value as no ETA.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connector.errors import NotFoundError, PlatformError
from connector.platforms.base import StorefrontEta
from connector.platforms.woocommerce.client import WooClient

META_ETA, META_EARLIEST, META_LATEST, META_TEXT = ("_backorder_eta", "_backorder_eta_earliest",
                                                   "_backorder_eta_latest", "_backorder_eta_text")
PER_CALL = 100  # WooCommerce's default woocommerce_rest_batch_items_limit; the plugin's route keeps it
PLUGIN_NAMESPACE, PLUGIN_PATH = "wc-backorder-eta/v1", "variations/batch"


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


class EtaWriter:
    """Writes storefront ETAs for one store, remembering whether the plugin's route is there."""

    def __init__(self, client: WooClient) -> None:
        self.client = client
        self.plugin_route = True  # until the store says otherwise

    def write(self, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
        """Write each item's meta, 100 per request; target -> None, or the store's reason for refusing it."""
        products: list[tuple[str, dict[str, Any]]] = []
        variations: list[tuple[int, str, dict[str, Any]]] = []
        for item in items:
            parent, own = split_target(item.target)
            update = {"id": own, "meta_data": storefront_meta(item)}
            if parent is None:
                products.append((item.target, update))
            else:
                variations.append((parent, item.target, update))
        result: dict[str, str | None] = {}
        for chunk in _chunks(products):
            result.update(self._send("products/batch", None, chunk))
        pending = [(target, update) for _, target, update in variations]
        while pending and self.plugin_route:
            chunk = pending[:PER_CALL]
            try:
                result.update(self._send(PLUGIN_PATH, PLUGIN_NAMESPACE, chunk))
            except NotFoundError as error:
                if error.code != "rest_no_route":
                    raise
                self.plugin_route = False
                break
            pending = pending[PER_CALL:]
        if pending:
            unsent = {target for target, _ in pending}
            by_parent: dict[int, list[tuple[str, dict[str, Any]]]] = {}
            for parent, target, update in variations:
                if target in unsent:
                    by_parent.setdefault(parent, []).append((target, update))
            for parent, updates in by_parent.items():
                for chunk in _chunks(updates):
                    result.update(self._send(f"products/{parent}/variations/batch", None, chunk))
        return result

    def _send(self, path: str, namespace: str | None,
              chunk: list[tuple[str, dict[str, Any]]]) -> dict[str, str | None]:
        answer = self.client.post(path, {"update": [update for _, update in chunk]}, namespace=namespace) or {}
        errors = {str(entry.get("id")): entry.get("error") for entry in answer.get("update", [])
                  if isinstance(entry, dict) and isinstance(entry.get("error"), dict)}
        result: dict[str, str | None] = {}
        for target, update in chunk:
            error = errors.get(str(update["id"]))
            result[target] = f"{error.get('code')}: {error.get('message')}" if error else None
        return result


def _chunks(updates: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
    return [updates[start:start + PER_CALL] for start in range(0, len(updates), PER_CALL)]
