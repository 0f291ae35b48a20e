"""The WooCommerce sandbox's catalogue batches: product and variation meta written as core writes it, and
variation ids refused by products/batch as core refuses them."""

from __future__ import annotations

from typing import Any

from woo_sandbox_support import app, basic, client, clock, https, state  # noqa: F401 - fixtures, found by name

from connector.platforms.woocommerce.storefront import split_target

API = "/wp-json/wc/v3"


def meta_of(client: Any, path: str) -> dict[str, Any]:
    body = client.get(f"{API}/{path}", headers=basic()).get_json()
    return {entry["key"]: entry["value"] for entry in body["meta_data"]}


def test_products_batch_writes_meta_and_refuses_a_variation(client: Any, https: Any) -> None:
    answer = client.post(f"{API}/products/batch", headers=basic(), json={"update": [
        {"id": 10, "meta_data": [{"key": "_backorder_eta", "value": "2026-12-01"}]},
        {"id": 21, "meta_data": [{"key": "_backorder_eta", "value": "2026-12-01"}]},
        {"id": 999, "meta_data": []}]})
    assert answer.status_code == 200
    first, variation, missing = answer.get_json()["update"]
    assert first["id"] == 10 and {"key": "_backorder_eta", "value": "2026-12-01"} in [
        {"key": m["key"], "value": m["value"]} for m in first["meta_data"]]
    assert variation["error"]["code"] == "woocommerce_rest_invalid_product_id"
    assert missing["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert meta_of(client, "products/10") == {"_backorder_eta": "2026-12-01"}
    # update_meta_data() keeps one entry per key: writing again replaces it
    client.post(f"{API}/products/batch", headers=basic(), json={"update": [
        {"id": 10, "meta_data": [{"key": "_backorder_eta", "value": ""}]}]})
    assert meta_of(client, "products/10") == {"_backorder_eta": ""}


def test_variations_batch_writes_only_its_own_parents_variations(client: Any, https: Any) -> None:
    answer = client.post(f"{API}/products/20/variations/batch", headers=basic(), json={"update": [
        {"id": 21, "meta_data": [{"key": "_backorder_eta", "value": "2026-12-03"}]}]})
    assert answer.status_code == 200 and "error" not in answer.get_json()["update"][0]
    assert meta_of(client, "products/20/variations/21") == {"_backorder_eta": "2026-12-03"}
    wrong = client.post(f"{API}/products/10/variations/batch", headers=basic(), json={"update": [{"id": 21}]})
    assert wrong.get_json()["update"][0]["error"]["code"] == "woocommerce_rest_product_variation_invalid_id"
    too_many = client.post(f"{API}/products/batch", headers=basic(), json={"update": [{"id": 10}] * 101})
    assert too_many.status_code == 413


PLUGIN = "/wp-json/wc-backorder-eta/v1/variations/batch"


def test_the_plugins_route_writes_variations_of_any_parent_and_refuses_item_by_item(client: Any, https: Any) -> None:
    answer = client.post(PLUGIN, headers=basic(), json={"update": [
        {"id": 21, "meta_data": [{"key": "_backorder_eta", "value": "2026-12-03"},
                                 {"key": "_backorder_eta_text", "value": "Soon"}]},
        {"id": 10, "meta_data": [{"key": "_backorder_eta", "value": "2026-12-03"}]},
        {"id": 21, "meta_data": [{"key": "_price", "value": "1"}]},
        {"id": 21, "meta_data": [{"key": "_backorder_eta", "value": "2026-02-30"}]}]})
    assert answer.status_code == 200
    written, simple, foreign_key, bad_date = answer.get_json()["update"]
    assert written == {"id": 21, "parent_id": 20, "meta_data": [
        {"key": "_backorder_eta", "value": "2026-12-03"}, {"key": "_backorder_eta_earliest", "value": ""},
        {"key": "_backorder_eta_latest", "value": ""}, {"key": "_backorder_eta_text", "value": "Soon"}]}
    assert simple["error"]["code"] == "backorder_eta_rest_invalid_variation" and simple["error"]["data"]["status"] == 404
    assert foreign_key["error"]["code"] == "backorder_eta_rest_invalid_meta_key"
    assert bad_date["error"]["code"] == "backorder_eta_rest_invalid_date"
    assert meta_of(client, "products/20/variations/21") == {"_backorder_eta": "2026-12-03", "_backorder_eta_text": "Soon"}
    assert meta_of(client, "products/10") == {}


def test_the_plugins_route_limits_and_authenticates_like_core(client: Any, https: Any) -> None:
    assert client.post(PLUGIN, headers=basic(), json={"update": [{"id": 21}] * 101}).status_code == 413
    assert client.post(PLUGIN, headers=basic(), json={"create": []}).get_json()["code"] == "backorder_eta_rest_invalid_body"
    anonymous = client.post(PLUGIN, json={"update": []})
    assert anonymous.status_code == 401
    assert "wc-backorder-eta/v1" in client.get("/wp-json/").get_json()["namespaces"]


def test_a_store_without_the_plugin_has_no_route_and_no_namespace(client: Any, https: Any, state: Any) -> None:
    state.backorder_eta_plugin = False
    missing = client.post(PLUGIN, headers=basic(), json={"update": []})
    assert missing.status_code == 404 and missing.get_json()["code"] == "rest_no_route"
    assert "wc-backorder-eta/v1" not in client.get("/wp-json/").get_json()["namespaces"]
    assert split_target("7/701") == (7, 701) and split_target("42") == (None, 42)
