"""WooCommerce end to end: a store added with `connector shops add woocommerce` syncs, reconciles, gets its
order meta (its marks and the merchant's note) written and its customers emailed once per notice, writes nothing when nothing
changed, and clears its marks when orders are completed or cancelled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from connector.platforms.woocommerce.adapter import META_NOTE, NOTE_HEADER
from connector.services import Services
from e2e_support import (
    WOO_KEY,
    WOO_SECRET,
    Store,
    connector,
    day,
    decisions,
    run_cycle,
    sent_notices,
    unsettled,
    woocommerce_feed_rows,
    write_feed,
)

MARK_KEYS = ("_backorder_status", "_backorder_eta", "_backorder_lines")


def read_order(store: Store, order_id: int) -> dict[str, Any]:
    answer = requests.get(f"{store.url}/_sandbox/orders/{order_id}", timeout=10)
    assert answer.status_code == 200
    return answer.json()


def marks_of(order: dict[str, Any]) -> dict[str, Any]:
    return {entry["key"]: entry["value"] for entry in order["meta_data"] if entry["key"] in MARK_KEYS}


def merchant_note(order: dict[str, Any]) -> str | None:
    """The connector's note for the merchant: order meta, never an order note (that would cost a request each)."""
    assert not [note for note in order["notes"] if note["note"].startswith(NOTE_HEADER)]
    return next((entry["value"] for entry in order["meta_data"] if entry["key"] == META_NOTE), None)


def customer_emails(store: Store) -> list[tuple[int, str]]:
    return [(email["order_id"], email["to"]) for email in requests.get(f"{store.url}/_sandbox/emails", timeout=10).json()]


def test_full_cycle_writes_meta_notes_and_emails_once_then_clears(
    woo_store: Store, sqlite_services: Services, tmp_path: Path
) -> None:
    services, store = sqlite_services, woo_store
    output = connector(services.settings, "shops", "add", "woocommerce", "--url", store.url, "--key", WOO_KEY,
                       "--secret", WOO_SECRET, "--name", "E2E kitchen")
    assert WOO_SECRET not in output
    shop_id = int(output.split()[1].rstrip(":"))
    feed = write_feed(tmp_path / "kitchen.csv", woocommerce_feed_rows())

    synced, reconciled, _ = run_cycle(services, shop_id, feed, "kitchen-supplies")
    assert "read 3 orders" in synced
    assert "3 open orders, 2 backordered" in reconciled
    assert unsettled(services) == []
    eta = day(9 + 1 + 1)  # restock + supplier lead + handling day
    assert decisions(services, shop_id) == {"#501": ("backordered", eta), "#502": ("backordered", eta),
                                                "#503": ("ok", None)}

    first = read_order(store, 501)
    marks = marks_of(first)
    assert marks["_backorder_status"] == "backordered" and marks["_backorder_eta"] == eta.isoformat()
    assert [(line["sku"], line["backordered"], line["eta"]) for line in json.loads(marks["_backorder_lines"])] == [
        ("WE2E-KETTLE", 2, eta.isoformat())]
    note = merchant_note(first)
    assert note is not None and note.startswith(NOTE_HEADER) and "WE2E-KETTLE" in note and eta.isoformat() in note
    assert marks_of(read_order(store, 502))["_backorder_status"] == "backordered"
    untouched = read_order(store, 503)
    assert marks_of(untouched) == {} and merchant_note(untouched) is None and untouched["emails"] == []
    assert sorted(customer_emails(store)) == [(501, "lea@example.com"), (502, "tom@example.com")]
    [customer_note] = [note for note in first["notes"] if note["customer_note"]]
    assert eta.strftime("%Y") in customer_note["note"] and "Reference" not in customer_note["note"]  # refs stay internal
    assert sorted(sent_notices(services)) == [("#501", "backordered"), ("#502", "backordered")]
    assert store.recorder.take()

    # Everything again with nothing changed: no write reaches the store, no customer hears twice.
    synced, reconciled, stats = run_cycle(services, shop_id, feed, "kitchen-supplies")
    assert "0 changed, 0 actions queued" in reconciled
    assert store.recorder.take() == []
    assert stats.actions == 0 and len(customer_emails(store)) == 2

    # The merchant ships #501 from elsewhere and the customer of #502 cancels.
    for order_id, status in ((501, "completed"), (502, "cancelled")):
        answer = requests.put(f"{store.url}/_sandbox/orders/{order_id}", json={"status": status}, timeout=10)
        assert answer.status_code == 200
    synced, reconciled, _ = run_cycle(services, shop_id, feed, "kitchen-supplies")
    assert "1 open orders, 0 backordered, 2 changed" in reconciled
    assert unsettled(services) == []
    for order_id in (501, 502):
        order = read_order(store, order_id)
        assert marks_of(order) == {"_backorder_status": "ok", "_backorder_eta": "", "_backorder_lines": "[]"}
        assert "no longer backordered" in (merchant_note(order) or "")
    assert marks_of(read_order(store, 503)) == {}
    # (The sync also re-enables the webhooks the store paused after failed deliveries: not order writes.)
    order_writes = [write for write in store.recorder.take() if "/webhooks" not in write]
    assert order_writes == ["POST /wp-json/wc/v3/orders/batch"]  # both orders' marks and notes in one request
    # Completed or cancelled: no "ready to ship" email, today or tomorrow (the store told them itself).
    run_cycle(services, shop_id, feed, "kitchen-supplies", as_of=day(1))
    assert len(customer_emails(store)) == 2 and len(sent_notices(services)) == 2
    assert store.recorder.take() == []
