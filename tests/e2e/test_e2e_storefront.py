"""Storefront ETA end to end on both sandboxes: the first push, a change, clearing when stock is back, and
only what changed ever written (reconcile and `connector storefront push` alike)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.services import Services
from connector.store.models import Shop
from e2e_support import (
    SHOPIFY_DOMAIN,
    SHOPIFY_TOKEN,
    WOO_KEY,
    WOO_SECRET,
    Store,
    connector,
    day,
    run_cycle,
    shopify_feed_rows,
    start_shopify,
    unsettled,
    woocommerce_feed_rows,
    write_feed,
)

STOREFRONT_KEY = "app--1--backorder.eta"  # `$app:backorder` / `eta`, as the sandbox (and Shopify) store it


def variant_etas(store: Store) -> dict[str, Any]:
    listed = requests.get(f"{store.url}/_sandbox/inventory", timeout=10).json()
    return {item["sku"]: json.loads(item["metafields"][STOREFRONT_KEY]["value"])
            for item in listed if STOREFRONT_KEY in item["metafields"]}


def woo_meta(services: Services, shop_id: int, product_id: int) -> dict[str, str]:
    """The product's storefront meta as the store serves it (read through the connector's own client)."""
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        platform = services.platform_for(shop)
    try:
        product = platform.client.get(f"products/{product_id}")  # type: ignore[attr-defined]
    finally:
        platform.close()
    return {entry["key"]: entry["value"] for entry in product["meta_data"] if entry["key"].startswith("_backorder_eta")}


def test_shopify_variants_get_one_json_metafield_each_and_only_changes_are_written(
    sqlite_services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    services, store = sqlite_services, start_shopify(tmp_path, request)
    added = connector(services.settings, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN, "--token",
                      SHOPIFY_TOKEN, "--api-url", store.url)
    shop_id = int(added.split()[1].rstrip(":"))
    assert "storefront ETA on" in connector(services.settings, "storefront", "settings", "--shop", str(shop_id), "--on")
    feed = write_feed(tmp_path / "supplier.csv", shopify_feed_rows())

    run_cycle(services, shop_id, feed, "shirts-and-co")
    assert unsettled(services) == []
    # shirt: 2 waiting, the 20-unit restock (day 10, +2 lead, +1 handling) has room; sock: 1 waiting behind
    # the one in stock, restock day 5 +1 +1; lantern: no supply known (nothing shown); mug: in stock
    assert variant_etas(store) == {"E2E-SHIRT": {"date": day(13).isoformat()}, "E2E-SOCK": {"date": day(7).isoformat()}}
    calls = store.recorder.take_calls()
    storefront = [(name, variables) for name, variables in calls if name.startswith("metafield") and any(
        entry.get("ownerType") == "PRODUCTVARIANT" or "ProductVariant" in str(entry.get("ownerId"))
        for entry in (variables.get("metafields") or [variables.get("definition") or {}]))]
    assert [name for name, _ in storefront] == ["metafieldDefinitionCreate", "metafieldsSet"]
    assert storefront[0][1]["definition"]["access"] == {"storefront": "PUBLIC_READ"}
    assert len(storefront[1][1]["metafields"]) == 2

    # Nothing changed: reconcile queues no storefront write, and the push writes nothing.
    run_cycle(services, shop_id, feed, "shirts-and-co")
    assert "0 variant(s) written" in connector(services.settings, "storefront", "push", "--shop", str(shop_id))
    assert store.recorder.take() == []

    # The sock's restock slips three days: only the sock is written.
    slipped = [dict(row, restock_date=day(8).isoformat()) if row["sku"] == "E2E-SOCK" else row
               for row in shopify_feed_rows()]
    run_cycle(services, shop_id, write_feed(tmp_path / "supplier.csv", slipped), "shirts-and-co")
    [(name, variables)] = [call for call in store.recorder.take_calls() if "ProductVariant" in json.dumps(call[1])]
    assert name == "metafieldsSet" and len(variables["metafields"]) == 1
    assert variant_etas(store)["E2E-SOCK"] == {"date": day(10).isoformat()}

    # The shirts arrive: the shirt's ETA is cleared, the sock's stays.
    requests.post(f"{store.url}/_sandbox/inventory", json={"sku": "E2E-SHIRT", "quantities": {"available": 10}},
                  timeout=10).raise_for_status()
    run_cycle(services, shop_id, feed, "shirts-and-co")
    assert variant_etas(store) == {"E2E-SOCK": {"date": day(10).isoformat()}}
    listed = json.loads(connector(services.settings, "storefront", "list", "--json"))
    shirt = next(item for item in listed if item["sku"] == "E2E-SHIRT")
    assert (shirt["shown"], shirt["pushed"], shirt["status"], shirt["available_now"]) == (None, None, "done", 8)


def test_woocommerce_products_get_the_plugin_meta_through_batches_and_clear_when_back_in_stock(
    woo_store: Store, sqlite_services: Services, tmp_path: Path
) -> None:
    services, store = sqlite_services, woo_store
    added = connector(services.settings, "shops", "add", "woocommerce", "--url", store.url, "--key", WOO_KEY,
                      "--secret", WOO_SECRET)
    shop_id = int(added.split()[1].rstrip(":"))
    connector(services.settings, "storefront", "settings", "--shop", str(shop_id), "--on",
              "--text", "Back from the supplier around {date:%-d %B}")
    feed = write_feed(tmp_path / "kitchen.csv", woocommerce_feed_rows())

    # The dry run shows the kettle would be written and writes nothing.
    connector(services.settings, "sync", "--shop", str(shop_id))
    store.recorder.take()
    connector(services.settings, "feeds", "import", str(feed), "--supplier", "kitchen-supplies",
              "--shop", str(shop_id))
    dry = connector(services.settings, "storefront", "push", "--shop", str(shop_id), "--dry-run")
    assert "WE2E-KETTLE\t10\t" + day(11).isoformat() in dry and "1 variant(s) would be written" in dry
    assert store.recorder.take() == [] and woo_meta(services, shop_id, 10) == {}

    pushed = connector(services.settings, "storefront", "push", "--shop", str(shop_id))
    assert "1 variant(s) written (0 cleared)" in pushed
    eta = day(11)  # 3 waiting (the oversold units), restock day 9 +1 lead +1 handling
    assert woo_meta(services, shop_id, 10) == {"_backorder_eta": eta.isoformat(), "_backorder_eta_earliest": "",
                                   "_backorder_eta_latest": "", "_backorder_eta_text":
                                   f"Back from the supplier around {eta:%-d %B}"}
    assert store.recorder.take() == ["POST /wp-json/wc/v3/products/batch"]
    assert woo_meta(services, shop_id, 11) == {}  # the cups are in stock

    # Reconcile after the push: nothing changed, nothing written for the storefront.
    run_cycle(services, shop_id, feed, "kitchen-supplies")
    assert "/products/" not in " ".join(store.recorder.take())

    # The kettle's restock slips three days: one batch with the new date, written by the worker.
    slipped = write_feed(tmp_path / "kitchen.csv", [dict(row, restock_date=day(12).isoformat())
                                                    if row["sku"] == "WE2E-KETTLE" else row
                                                    for row in woocommerce_feed_rows()])
    run_cycle(services, shop_id, slipped, "kitchen-supplies")
    assert woo_meta(services, shop_id, 10)["_backorder_eta"] == day(14).isoformat()
    assert store.recorder.take().count("POST /wp-json/wc/v3/products/batch") == 1

    # The kettles arrive: the meta is emptied in one batch.
    requests.post(f"{store.url}/_sandbox/stock", json={"sku": "WE2E-KETTLE", "stock_quantity": 20},
                  timeout=10).raise_for_status()
    run_cycle(services, shop_id, feed, "kitchen-supplies")
    assert unsettled(services) == []
    assert woo_meta(services, shop_id, 10) == {"_backorder_eta": "", "_backorder_eta_earliest": "", "_backorder_eta_latest": "",
                                   "_backorder_eta_text": ""}
    assert store.recorder.take().count("POST /wp-json/wc/v3/products/batch") == 1
