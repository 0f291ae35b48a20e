"""Storefront ETAs on WooCommerce: variations of many parents through the Backorder ETA plugin's route,
100 a request, and core's per-parent batch when a store does not have that route."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connector.errors import NotFoundError
from connector.platforms.base import ShopAccess, StorefrontEta
from connector.platforms.woocommerce.adapter import WooPlatform
from connector.platforms.woocommerce.client import WooClient
from connector.platforms.woocommerce.storefront import EtaWriter
from sandbox.common import ServerThread
from sandbox.woocommerce import WooState

KEY, SECRET = "ck_" + "5f0e" * 10, "cs_" + "e7a9" * 10
PRODUCTS, PER_PRODUCT = 100, 10
PLUGIN_PATH = "/wp-json/wc-backorder-eta/v1/variations/batch"
ETA_KEYS = ("_backorder_eta", "_backorder_eta_earliest", "_backorder_eta_latest", "_backorder_eta_text")


def variation_id(product: int, variation: int) -> int:
    return 2_000 + product * 100 + variation


def seed(plugin_route: bool) -> dict[str, Any]:
    catalogue: list[dict[str, Any]] = [
        {"id": 10, "name": "Kettle", "sku": "KETTLE", "price": "30.00", "manage_stock": True, "stock_quantity": 0,
         "backorders": "notify", "date_created_gmt": "2026-10-01T09:00:00"}]
    catalogue += [{"id": 1_000 + p, "name": f"Shirt {p}", "type": "variable", "date_created_gmt": "2026-10-01T09:00:00",
                   "attributes": [{"name": "Size", "options": [str(v) for v in range(PER_PRODUCT)]}],
                   "variations": [{"id": variation_id(p, v), "sku": f"SHIRT-{p}-{v}", "price": "20.00",
                                   "attributes": [{"name": "Size", "option": str(v)}], "manage_stock": True,
                                   "stock_quantity": 0, "backorders": "notify",
                                   "date_created_gmt": "2026-10-01T09:00:00"} for v in range(PER_PRODUCT)]}
                  for p in range(PRODUCTS)]
    return {"site_title": "Storefront shop", "backorder_eta_plugin": plugin_route, "products": catalogue,
            "api_keys": [{"key_id": 1, "consumer_key": KEY, "consumer_secret": SECRET, "permissions": "read_write"}]}


class Requests:
    """Every REST request the sandbox receives, as `METHOD /path`."""

    def __init__(self, app: Any) -> None:
        self.seen: list[str] = []
        self._inner = app.wsgi_app
        app.wsgi_app = self

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"].startswith("/wp-json/"):
            self.seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self._inner(environ, start_response)


def start(tmp_path: Path, plugin_route: bool) -> tuple[ServerThread, WooPlatform, Requests, WooState]:
    from sandbox.woocommerce import run
    from sandbox.woocommerce.app import sandbox_of

    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed(plugin_route)))
    server = run(0, path)
    client = WooClient(ShopAccess(platform="woocommerce", domain=server.url, api_url=f"{server.url}/wp-json/wc/v3/",
                                  consumer_key=KEY, consumer_secret=SECRET), sleep=lambda _s: None)
    return server, WooPlatform(client), Requests(server.app), sandbox_of(server.app).state


@pytest.fixture
def with_plugin(tmp_path: Path) -> Iterator[tuple[WooPlatform, Requests, WooState]]:
    server, platform, seen, state = start(tmp_path, plugin_route=True)
    yield platform, seen, state
    platform.close()
    server.stop()


@pytest.fixture
def without_plugin(tmp_path: Path) -> Iterator[tuple[WooPlatform, Requests, WooState]]:
    server, platform, seen, state = start(tmp_path, plugin_route=False)
    yield platform, seen, state
    platform.close()
    server.stop()


def every_variation(eta: date | None) -> list[StorefrontEta]:
    return [StorefrontEta(f"{1_000 + p}/{variation_id(p, v)}", eta, text="Ships soon" if eta else None)
            for p in range(PRODUCTS) for v in range(PER_PRODUCT)]


def eta_meta(state: WooState, record_id: int) -> dict[str, Any]:
    record = state.variations.get(record_id) or state.products[record_id]
    return {entry.key: entry.value for entry in record.meta if entry.key in ETA_KEYS}


def test_a_thousand_variations_of_a_hundred_parents_cost_ten_requests(
        with_plugin: tuple[WooPlatform, Requests, WooState]) -> None:
    platform, seen, state = with_plugin
    answers = platform.write_storefront_etas(every_variation(date(2027, 1, 18)))
    assert len(answers) == 1_000 and set(answers.values()) == {None}
    assert seen.seen == [f"POST {PLUGIN_PATH}"] * 10
    assert eta_meta(state, variation_id(0, 0)) == eta_meta(state, variation_id(99, 9)) == {
        "_backorder_eta": "2027-01-18", "_backorder_eta_earliest": "", "_backorder_eta_latest": "",
        "_backorder_eta_text": "Ships soon"}
    # Clearing writes all four keys empty, through the same route.
    seen.seen.clear()
    platform.write_storefront_etas(every_variation(None)[:150])
    assert seen.seen == [f"POST {PLUGIN_PATH}"] * 2
    assert set(eta_meta(state, variation_id(1, 4)).values()) == {""}
    assert eta_meta(state, variation_id(15, 0))["_backorder_eta"] == "2027-01-18"


def test_simple_products_stay_on_core_batch_and_a_bad_id_is_refused_alone(
        with_plugin: tuple[WooPlatform, Requests, WooState]) -> None:
    platform, seen, state = with_plugin
    items = [StorefrontEta("10", date(2027, 2, 1)), StorefrontEta(f"1000/{variation_id(0, 3)}", date(2027, 2, 2)),
             StorefrontEta("1000/999999", date(2027, 2, 2)), StorefrontEta(f"1001/{variation_id(1, 0)}", None)]
    answers = platform.write_storefront_etas(items)
    assert seen.seen == ["POST /wp-json/wc/v3/products/batch", f"POST {PLUGIN_PATH}"]
    assert answers["10"] is None and answers[f"1000/{variation_id(0, 3)}"] is None
    assert answers[f"1001/{variation_id(1, 0)}"] is None
    assert answers["1000/999999"] == "backorder_eta_rest_invalid_variation: No product variation has this ID."
    assert eta_meta(state, 10)["_backorder_eta"] == "2027-02-01"
    assert eta_meta(state, variation_id(0, 3))["_backorder_eta"] == "2027-02-02"


def test_without_the_plugins_route_variations_go_per_parent_and_the_404_is_asked_once(
        without_plugin: tuple[WooPlatform, Requests, WooState]) -> None:
    platform, seen, state = without_plugin
    answers = platform.write_storefront_etas(every_variation(date(2027, 1, 18)))
    assert set(answers.values()) == {None} and len(answers) == 1_000
    assert seen.seen[0] == f"POST {PLUGIN_PATH}"
    assert sorted(seen.seen[1:]) == sorted(f"POST /wp-json/wc/v3/products/{1_000 + p}/variations/batch"
                                           for p in range(PRODUCTS))
    assert eta_meta(state, variation_id(42, 7))["_backorder_eta"] == "2027-01-18"
    seen.seen.clear()
    platform.write_storefront_etas(every_variation(date(2027, 1, 20))[:10])
    assert seen.seen == ["POST /wp-json/wc/v3/products/1000/variations/batch"]  # remembered: no second 404


class ScriptedClient:
    """The WooClient surface the writer uses; `refuse` raises on the plugin's route."""

    def __init__(self, refuse: Exception | None) -> None:
        self.refuse = refuse
        self.posts: list[tuple[str | None, str, int]] = []

    def post(self, path: str, body: dict[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        self.posts.append((namespace, path, len(body["update"])))
        if namespace is not None and self.refuse is not None:
            raise self.refuse
        return {"update": [{"id": update["id"]} for update in body["update"]]}


def test_the_writer_chunks_products_and_variations_by_a_hundred() -> None:
    items = [StorefrontEta(str(100 + n), date(2026, 12, 1)) for n in range(150)]
    items += [StorefrontEta(f"{7 + n % 3}/{700 + n}", date(2026, 12, 2)) for n in range(120)]
    client = ScriptedClient(refuse=None)
    answers = EtaWriter(client).write(items)  # type: ignore[arg-type]
    assert set(answers.values()) == {None} and len(answers) == 270
    assert client.posts == [(None, "products/batch", 100), (None, "products/batch", 50),
                            ("wc-backorder-eta/v1", "variations/batch", 100),
                            ("wc-backorder-eta/v1", "variations/batch", 20)]


def test_only_a_missing_route_falls_back() -> None:
    items = [StorefrontEta("7/701", date(2026, 12, 2))]
    refused = ScriptedClient(refuse=NotFoundError("shop: POST variations/batch: not found", status=404,
                                                  code="woocommerce_rest_cannot_batch"))
    with pytest.raises(NotFoundError):
        EtaWriter(refused).write(items)  # type: ignore[arg-type]
    missing = ScriptedClient(refuse=NotFoundError("no route", status=404, code="rest_no_route"))
    writer = EtaWriter(missing)  # type: ignore[arg-type]
    assert writer.write(items) == {"7/701": None}
    assert missing.posts == [("wc-backorder-eta/v1", "variations/batch", 1), (None, "products/7/variations/batch", 1)]
    assert writer.plugin_route is False
