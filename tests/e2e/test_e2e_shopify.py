"""Shopify end to end: a store added with `connector shops add shopify` syncs, reconciles, gets its tags,
metafields, note block and holds pushed back and its customers notified, idempotently, then clears."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.platforms.base import HOLD_HANDLE
from connector.platforms.shopify.notes import BLOCK_END, BLOCK_START
from connector.services import Services
from e2e_support import (
    MERCHANT_NOTE,
    SHOPIFY_DOMAIN,
    SHOPIFY_TOKEN,
    Store,
    connector,
    day,
    decisions,
    e2e_services,
    eml_notices,
    run_cycle,
    sent_notices,
    shopify_feed_rows,
    start_shopify,
    unsettled,
    write_feed,
)


def marks_by_name(store: Store) -> dict[str, dict[str, Any]]:
    orders = requests.get(f"{store.url}/_sandbox/orders", timeout=10).json()
    return {order["name"]: order for order in orders}


def add_shop(services: Services, store: Store) -> int:
    output = connector(services.settings, "shops", "add", "shopify", "--domain", SHOPIFY_DOMAIN,
                       "--token", SHOPIFY_TOKEN, "--api-url", store.url, "--name", "E2E Outfitters")
    assert SHOPIFY_TOKEN not in output
    return int(output.split()[1].rstrip(":"))


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Any:
    built = e2e_services(database_url, tmp_path)
    yield built
    built.close()


def test_full_cycle_pushes_once_then_clears_when_stock_arrives(
    services: Services, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = start_shopify(tmp_path, request)
    shop_id = add_shop(services, store)
    feed = write_feed(tmp_path / "supplier.csv", shopify_feed_rows())
    outbox = services.settings.outbox_dir

    synced, reconciled, _ = run_cycle(services, shop_id, feed, "shirts-and-co")
    assert "read 4 orders" in synced
    assert "4 open orders, 3 backordered" in reconciled
    assert unsettled(services) == []

    decided = decisions(services, shop_id)
    # FIFO: #1002 (older) gets the one sock, #1004 waits for the sock restock.
    assert decided["#1001"] == ("backordered", day(10 + 2 + 1))  # restock + supplier lead + handling day
    assert decided["#1002"][0] == "ok"
    assert decided["#1003"] == ("backordered", None)  # no supplier has lanterns: ETA unknown
    assert decided["#1004"] == ("backordered", day(5 + 1 + 1))

    marks = marks_by_name(store)
    first = marks["#1001"]
    assert sorted(first["tags"]) == ["backordered", "vip", "wholesale"]
    assert first["metafields"]["backorder.eta"] == {"type": "date", "value": day(13).isoformat()}
    assert first["metafields"]["backorder.status"]["value"] == "backordered"
    lines = json.loads(first["metafields"]["backorder.lines"]["value"])
    assert [(line["sku"], line["backordered"], line["eta"]) for line in lines] == [("E2E-SHIRT", 2, day(13).isoformat())]
    assert first["note"].startswith(MERCHANT_NOTE + "\n\n" + BLOCK_START)
    assert first["note"].endswith(BLOCK_END) and day(13).isoformat() in first["note"]
    assert [(h["handle"], h["reason"]) for h in first["holds"]] == [(HOLD_HANDLE, "INVENTORY_OUT_OF_STOCK")]
    assert [(h["handle"], h["reason"]) for h in marks["#1003"]["holds"]] == [(HOLD_HANDLE, "UNKNOWN_DELIVERY_DATE")]
    assert "backorder.eta" not in marks["#1003"]["metafields"]  # no date known: no eta metafield
    untouched = marks["#1002"]
    assert untouched["tags"] == [] and untouched["note"] is None and untouched["metafields"] == {}
    assert untouched["holds"] == []

    notices = Counter(to for to, _subject in eml_notices(outbox))
    assert sorted(notices) == ["Buyer1 E2E <ada@example.com>", "Buyer3 E2E <grace@example.com>",
                               "Buyer4 E2E <linus@example.com>"]
    assert set(notices.values()) == {1}
    assert sorted(sent_notices(services)) == [("#1001", "backordered"), ("#1003", "backordered"),
                                              ("#1004", "backordered")]
    writes = Counter(store.recorder.take())
    assert writes["tagsAdd"] == 3 and writes["fulfillmentOrderHold"] == 3

    # Everything again with nothing changed: the store receives no mutation and nobody hears twice.
    before = marks_by_name(store)
    synced, reconciled, stats = run_cycle(services, shop_id, feed, "shirts-and-co")
    assert "0 changed, 0 actions queued" in reconciled
    assert store.recorder.take() == []
    assert marks_by_name(store) == before
    assert stats.actions == 0 and len(eml_notices(outbox)) == 3

    # The shirts arrive: #1001 is no longer backordered.
    answer = requests.post(f"{store.url}/_sandbox/inventory",
                           json={"sku": "E2E-SHIRT", "quantities": {"available": 10}}, timeout=10)
    assert answer.status_code == 200
    run_cycle(services, shop_id, feed, "shirts-and-co")
    assert unsettled(services) == []
    assert decisions(services, shop_id)["#1001"] == ("ok", None)
    cleared = marks_by_name(store)["#1001"]
    assert sorted(cleared["tags"]) == ["vip", "wholesale"]
    assert cleared["holds"] == []
    assert cleared["metafields"]["backorder.status"]["value"] == "ok"
    assert "backorder.eta" not in cleared["metafields"]
    assert cleared["note"].startswith(MERCHANT_NOTE + "\n\n" + BLOCK_START)
    assert "no longer backordered" in cleared["note"] and day(13).isoformat() not in cleared["note"]
    calls = store.recorder.take_calls()
    writes = [name for name, _ in calls]
    assert writes.count("tagsRemove") == 1 and writes.count("fulfillmentOrderReleaseHold") == 1
    assert all(name not in writes for name in ("tagsAdd", "fulfillmentOrderHold"))
    released = next(variables for name, variables in calls if name == "fulfillmentOrderReleaseHold")
    # our hold, named explicitly (in a batched document the variables carry the alias's number)
    assert [value for key, value in released.items() if key.split("_")[0] == "holdIds"] == [[first["holds"][0]["id"]]]
    # At most one notice per order per day: the good news waits for tomorrow's reconcile, which
    # sends it without writing to the store again.
    assert len(sent_notices(services)) == 3
    run_cycle(services, shop_id, feed, "shirts-and-co", as_of=day(1))
    assert store.recorder.take() == []
    assert sent_notices(services)[-1] == ("#1001", "ready")
    assert Counter(to for to, _ in eml_notices(outbox))["Buyer1 E2E <ada@example.com>"] == 2
    run_cycle(services, shop_id, feed, "shirts-and-co", as_of=day(1))
    assert len(eml_notices(outbox)) == 4 and store.recorder.take() == []
    # The other orders were left as they were.
    assert marks_by_name(store)["#1003"] == before["#1003"]
