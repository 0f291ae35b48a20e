"""The live demo (`make demo`) end to end: both stores installed through their real flows, orders synced,
backorders found and dated, marks pushed back, delay and ETA-changed notices sent; and it runs again."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from sandbox.demo import EXAMPLES, DemoRun, run_demo, storefront_etas
from sandbox.demo_history import range_notices
from connector.platforms.base import BACKORDER_TAG, HOLD_HANDLE
from connector.platforms.woocommerce.adapter import META_NOTE, NOTE_HEADER
from connector.store.models import Action, Cancellation, LineDecision, Order, Shop, StorefrontEta


def outcome(run: DemoRun) -> dict[str, Any]:
    """What the demo left in the connector's database and in the two stores."""
    from sandbox.woocommerce import sandbox_of as woo_of

    with run.services.db.session() as session:
        shops = sorted((shop.platform, shop.active) for shop in session.scalars(select(Shop)))
        orders = dict(session.execute(select(Shop.platform, func.count(Order.id))
                                      .join(Order, Order.shop_id == Shop.id).group_by(Shop.platform)).all())
        dated = session.scalar(select(func.count()).select_from(LineDecision)
                               .where(LineDecision.backordered > 0, LineDecision.eta.is_not(None)))
        notices = Counter(str(payload["notice"]) for payload in session.scalars(
            select(Action.payload).where(Action.kind == "notify", Action.status == "sent")))
        unsettled = session.scalar(select(func.count()).select_from(Action)
                                   .where(Action.status.not_in(("done", "sent", "superseded"))))
        cancels = sorted((shop.platform, row.status, row.refund_amount) for row, shop in session.execute(
            select(Cancellation, Shop).join(Shop, Shop.id == Cancellation.shop_id)))
        storefront_unsettled = session.scalar(select(func.count()).select_from(StorefrontEta)
                                              .where(StorefrontEta.status != "done"))
    shopify_orders = requests.get(f"{run.shopify.url}/_sandbox/orders", timeout=10).json()
    from sandbox.shopify import sandbox_of as shopify_of

    shopify_refunds = sorted(f"{refund.amount:.2f}" for order in shopify_of(run.shopify.app).state.orders.values()
                             for refund in order.refunds)
    woo = woo_of(run.woocommerce.app).state
    woo_refunds = sorted(f"{refund.amount:.2f}" for order in woo.orders.values() for refund in order.refunds)
    with woo.lock:
        woo_marked = sum(1 for order in woo.orders.values()
                         if any(entry.key == "_backorder_status" and entry.value == "backordered" for entry in order.meta))
        woo_notes = sum(1 for order in woo.orders.values()
                        if any(entry.key == META_NOTE and str(entry.value).startswith(NOTE_HEADER) for entry in order.meta))
        woo_emails = len(woo.emails)
    return {
        "shops": shops, "orders": orders, "dated_lines": dated, "notices": notices, "unsettled": unsettled,
        "tagged": sum(1 for order in shopify_orders if BACKORDER_TAG in order["tags"]),
        "held": sum(1 for order in shopify_orders if any(h["handle"] == HOLD_HANDLE for h in order["holds"])),
        "noted": sum(1 for order in shopify_orders if order["note"] and "backorder" in order["note"]),
        "woo_marked": woo_marked, "woo_notes": woo_notes, "woo_emails": woo_emails,
        "cancels": cancels, "store_refunds": {"shopify": shopify_refunds, "woocommerce": woo_refunds},
        "storefront": {platform: len(served) for platform, served in storefront_etas(run).items()},
        "storefront_unsettled": storefront_unsettled,
    }


def test_the_demo_shows_the_whole_loop_and_runs_twice(tmp_path: Path) -> None:
    seeded = {platform: len(json.loads((EXAMPLES / f"{platform}_seed.json").read_text())["orders"])
              for platform in ("shopify", "woocommerce")}
    results = []
    for _ in range(2):  # the second run starts from the same folder, as `make demo` twice would
        run = run_demo(tmp_path / "demo")
        try:
            results.append(outcome(run))
            ranged, quoted = range_notices(run)
            assert run.late_suppliers >= 1 and ranged >= 1 and "expected between" in quoted
            steps = [title for title, _detail in run.steps]
        finally:
            run.stop()
        assert steps == ["Installed", "Supplier feeds", "First sync", "Storefront ETA", "New orders", "Supplier delay",
                         "Reasons", "Customers cancel", "Reorder advice"]

    first, second = results
    assert first["shops"] == [("shopify", True), ("woocommerce", True)]
    assert first["orders"] == {"shopify": seeded["shopify"] + 3, "woocommerce": seeded["woocommerce"] + 3}
    assert first["dated_lines"] > 0 and first["unsettled"] == 0
    assert first["tagged"] > 0 and first["held"] >= first["tagged"] and first["noted"] >= first["tagged"]
    assert first["woo_marked"] > 0 and first["woo_notes"] >= first["woo_marked"]
    assert first["notices"]["backordered"] > 0 and first["notices"]["eta_changed"] > 0
    assert first["woo_emails"] > 0
    # one customer per store chose cancel: refunded in the store, confirmed to the customer
    assert [(platform, status) for platform, status, _amount in first["cancels"]] == [
        ("shopify", "done"), ("woocommerce", "done")]
    assert first["store_refunds"] == {platform: [amount] for platform, _status, amount in first["cancels"]}
    assert first["notices"]["cancelled"] == 2
    assert first["storefront"]["shopify"] > 0 and first["storefront"]["woocommerce"] > 0  # pushed to both stores
    assert first["storefront_unsettled"] == 0
    assert second == first
