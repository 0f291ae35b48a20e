"""The WooCommerce sandbox's catalogue batches: product and variation meta written as core writes it, and
variation ids refused by products/batch as core refuses them."""

from __future__ import annotations

from datetime import date
from typing import Any

from woo_sandbox_support import app, basic, client, clock, https, state  # noqa: F401 - fixtures, found by name

from connector.platforms.base import StorefrontEta
from connector.platforms.woocommerce.storefront import split_target, write_etas

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


class RecordingClient:
    """The WooClient surface the writer uses: `post`, answering every update as done."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, int]] = []

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.posts.append((path, len(body["update"])))
        return {"update": [{"id": update["id"]} for update in body["update"]]}


def test_the_writer_batches_products_together_and_variations_per_parent() -> None:
    items = [StorefrontEta(str(100 + n), date(2026, 12, 1)) for n in range(150)]
    items += [StorefrontEta(f"7/{700 + n}", date(2026, 12, 2)) for n in range(3)]
    items += [StorefrontEta("8/801", None)]
    client = RecordingClient()
    answers = write_etas(client, items)  # type: ignore[arg-type]
    assert set(answers.values()) == {None} and len(answers) == 154
    assert client.posts == [("products/batch", 100), ("products/batch", 50), ("products/7/variations/batch", 3),
                            ("products/8/variations/batch", 1)]
    assert split_target("7/701") == (7, 701) and split_target("42") == (None, 42)
