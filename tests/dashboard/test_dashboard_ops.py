"""Reconcile preview and run, deliveries (replay, choices, stuck notices), feed uploads, SKU pages and the chart."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from connector.pipeline.storefront import push_storefront, refresh_variants
from connector.services import Services
from connector.store.models import (
    Action,
    Base,
    CustomerChoice,
    InboxItem,
    InventoryLevel,
    OrderDecision,
    Shop,
    Supplier,
    SupplyItem,
)
from connector.web.dashboard.chart import bar_chart, nice_step
from tests.dashboard.conftest import csrf_from, post_form
from tests.dashboard.dashboard_seed import Seeded


def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a request wrote nothing."""
    with services.db.session() as db:
        return {
            table.name: sorted((tuple(row) for row in db.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
            if table.name != "login_attempts"
        }


def test_dry_run_previews_changes_and_writes_nothing(operator: FlaskClient, dash_services: Services) -> None:
    before = snapshot(dash_services)
    page = operator.get("/reconcile").get_data(as_text=True)
    assert "Dry run" in page and "nothing has been written" in page
    # The seeded decisions differ from a fresh plan, so every backordered order shows up as a change.
    for name in ("#1001", "#1002", "#1003"):
        assert f">{name}</a>" in page
    assert "Run reconcile now" in page
    assert snapshot(dash_services) == before


def test_confirmed_reconcile_records_decisions_and_queues_actions(operator: FlaskClient, seeded: Seeded,
                                                                 dash_services: Services) -> None:
    with dash_services.db.session() as db:
        actions_before = db.scalar(select(func.count()).select_from(Action))
    response = post_form(operator, "/reconcile", page="/reconcile")
    assert response.status_code == 302 and response.headers["Location"] == "/orders"
    assert "actions queued" in operator.get("/orders").get_data(as_text=True)
    with dash_services.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Action)) > actions_before  # type: ignore[operator]
        ada = db.scalar(select(OrderDecision).where(OrderDecision.order_id == seeded.orders["ada"]))
        assert ada is not None and not ada.fingerprint.startswith("seed-")
        assert ada.pushed_fingerprint == ada.fingerprint
        beta = db.scalar(select(OrderDecision).where(OrderDecision.order_id == seeded.orders["barbara"]))
        assert beta is not None and beta.fingerprint.startswith("seed-")  # the other shop is untouched
    assert "would change nothing" in operator.get("/reconcile").get_data(as_text=True)


def test_deliveries_page_lists_dead_letters_syncs_choices_and_stuck_notices(operator: FlaskClient) -> None:
    page = operator.get("/deliveries").get_data(as_text=True)
    assert "TransportError: store answered 503" in page and "orders/create" in page
    assert "Replay" in page and "hmac-not-shown" not in page
    assert "cancel the items not shipped" in page and "Mark handled" in page
    assert "Stuck notices <span class=\"count\">1</span>" in page and "#1002" in page
    assert "Alpha Outfitters" in page and "Beta Home" in page  # last sync of every shop for an operator
    assert "reconcile" in page


def test_replay_requeues_a_dead_delivery(operator: FlaskClient, seeded: Seeded, dash_services: Services) -> None:
    response = post_form(operator, f"/deliveries/{seeded.inbox['alpha_dead']}/replay", page="/deliveries")
    assert response.status_code == 302
    assert "queued to run again" in operator.get("/deliveries").get_data(as_text=True)
    with dash_services.db.session() as db:
        item = db.get(InboxItem, seeded.inbox["alpha_dead"])
        assert item is not None and (item.status, item.attempts, item.last_error) == ("pending", 0, None)
    assert post_form(operator, "/deliveries/99999/replay", page="/deliveries").status_code == 404


def test_mark_choice_handled(operator: FlaskClient, seeded: Seeded, dash_services: Services) -> None:
    post_form(operator, f"/choices/{seeded.choices['ada_cancel']}/handled", page="/deliveries")
    with dash_services.db.session() as db:
        assert db.get(CustomerChoice, seeded.choices["ada_cancel"]).handled_at is not None  # type: ignore[union-attr]
    assert "asks to cancel" not in operator.get("/orders").get_data(as_text=True)
    assert "No customer is waiting" in operator.get("/deliveries").get_data(as_text=True)


# --- supplier feeds -------------------------------------------------------------------------------------


def upload(client: FlaskClient, content: bytes, filename: str = "feed.csv", **fields: str) -> str:
    data: dict[str, Any] = {"supplier": "Alpha Direct", **fields, "file": (io.BytesIO(content), filename)}
    response = post_form(client, "/feeds/upload", data, page="/feeds", content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == "/feeds"
    return client.get("/feeds").get_data(as_text=True)


def supplier_skus(services: Services, name: str) -> list[str]:
    with services.db.session() as db:
        return list(db.scalars(
            select(SupplyItem.sku).join(Supplier, Supplier.id == SupplyItem.supplier_id)
            .where(Supplier.name == name).order_by(SupplyItem.line_no)
        ))


def test_feeds_page_shows_suppliers_rows_and_rejected_reasons(operator: FlaskClient) -> None:
    page = operator.get("/feeds").get_data(as_text=True)
    assert "Acme" in page and "Alpha Direct" in page and "Beta Supply Co" not in page
    assert "Line 4: negative quantity -2" in page and "every shop" in page


def test_upload_replaces_the_suppliers_rows(operator: FlaskClient, dash_services: Services) -> None:
    page = upload(operator, b"sku,available,restock_date\nSKU-GREEN,5,\nSKU-TEAL,,2030-01-15\nSKU-BAD,-3,\n")
    assert "imported 2 rows for Alpha Direct, 1 rejected" in page
    assert "Line 4: " in page and "negative" in page
    assert supplier_skus(dash_services, "Alpha Direct") == ["SKU-GREEN", "SKU-TEAL"]
    assert list((dash_services.settings.data_dir / "uploads").iterdir())


def test_bad_upload_shows_the_error_and_keeps_the_old_rows(operator: FlaskClient, dash_services: Services) -> None:
    page = upload(operator, b"item,qty\nX,1\n", "broken.csv")
    assert "broken.csv" in page and "previous rows stay in force" in page
    assert supplier_skus(dash_services, "Alpha Direct") == ["SKU-YELLOW"]
    assert not any((dash_services.settings.data_dir / "uploads").iterdir())
    page = upload(operator, b"sku,available\n\xff\xfe,1\n", "latin.csv")
    assert "latin.csv, line 2: not UTF-8 text" in page
    assert "only .csv and .json" in upload(operator, b"sku\nA\n", "feed.xlsx")
    assert "Give the supplier a name" in upload(operator, b"sku\nA\n", supplier="")
    assert supplier_skus(dash_services, "Alpha Direct") == ["SKU-YELLOW"]


def test_upload_with_a_column_map(operator: FlaskClient, dash_services: Services) -> None:
    page = upload(operator, b"Item Code,Qty\nSKU-NEW,3\n", column_map="Item Code=sku, Qty=available")
    assert "imported 1 rows" in page
    assert supplier_skus(dash_services, "Alpha Direct") == ["SKU-NEW"]
    page = upload(operator, b"Item Code\nX\n", column_map="Item Code=colour")
    assert "column map" in page and "SKU-NEW" in str(supplier_skus(dash_services, "Alpha Direct"))


def test_operator_can_upload_a_feed_for_every_shop(operator: FlaskClient, dash_services: Services) -> None:
    upload(operator, b"sku,available\nSKU-ALL,9\n", supplier="Global Parts", scope="all")
    with dash_services.db.session() as db:
        assert db.scalar(select(Supplier.scope).where(Supplier.name == "Global Parts")) == "all"


def test_merchant_upload_is_always_for_their_shop(merchant: FlaskClient, seeded: Seeded, dash_services: Services) -> None:
    upload(merchant, b"sku,available\nSKU-M,2\n", supplier="Merchant Feed", scope="all")
    with dash_services.db.session() as db:
        assert db.scalar(select(Supplier.scope).where(Supplier.name == "Merchant Feed")) == f"shop:{seeded.shops['alpha']}"


# --- SKUs and chart ---------------------------------------------------------------------------------


def test_sku_pages_show_demand_stock_supply_and_chart(operator: FlaskClient) -> None:
    page = operator.get("/skus").get_data(as_text=True)
    assert "<svg" in page and page.count('class="bar"') == 2 and 'class="bar unknown"' in page
    assert "SKU-RED" in page and "SKU-GREEN" in page and "SKU-BLUE" not in page  # BLUE is not waiting
    detail = operator.get("/skus/detail?sku=SKU-RED").get_data(as_text=True)
    assert "#1001" in detail and "#1003" in detail and "#B-2001" not in detail
    assert "supplier Acme: restock" in detail and "<svg" in detail
    assert "<strong>3</strong>" in detail  # 2 + 1 units waiting in this shop
    assert operator.get("/skus/detail").status_code == 404


def test_sku_page_shows_the_storefront_eta_and_its_last_push(operator: FlaskClient, seeded: Seeded,
                                                              dash_services: Services) -> None:
    page = "/skus/detail?sku=SKU-RED"
    assert "Off for this shop" in operator.get(page).get_data(as_text=True)
    refused = post_form(operator, "/storefront/settings", {"enabled": "on", "text": "Back on {day}", "back": page},
                        page=page, follow_redirects=True).get_data(as_text=True)
    assert "Nothing was changed" in refused and "Off for this shop" in refused
    saved = post_form(operator, "/storefront/settings", {"enabled": "on", "text": "Back around {date:%-d %B}",
                                                         "range_text": "", "back": page}, page=page,
                      follow_redirects=True).get_data(as_text=True)
    assert "Storefront ETA on" in saved and 'value="Back around {date:%-d %B}"' in saved
    with dash_services.db.session() as db:
        shop = db.get(Shop, seeded.shops["alpha"])
        assert shop is not None
        assert (shop.setting("storefront_eta", False), shop.setting("storefront_text_range", None)) == (True, None)
        db.execute(update(InventoryLevel).where(InventoryLevel.shop_id == shop.id).values(storefront_ref="44001"))
        found = refresh_variants(db, shop, seeded.today, dash_services.policy)
    assert found.queued == ["SKU-RED"]  # SKU-BLUE is in stock: nothing to show, nothing to write
    before = operator.get("/skus/detail?sku=SKU-RED").get_data(as_text=True)
    eta = seeded.today + timedelta(days=3 + 7 + 1)  # Acme's restock, its default lead, handling
    assert f"<td class=\"nowrap\">{eta.isoformat()}</td>" in before and "never" in before and "Push pending" in before
    report = push_storefront(dash_services, seeded.shops["alpha"])
    assert (report.written, report.failed) == (1, 0)
    after = operator.get("/skus/detail?sku=SKU-RED").get_data(as_text=True)
    assert after.count(eta.isoformat()) >= 2 and "Push done" in after and "written on variant 44001" in after


def test_nice_step_is_round() -> None:
    assert [nice_step(v) for v in (1, 4, 7, 19, 40, 101, 950)] == [1, 1, 2, 5, 10, 50, 500]


def test_bar_chart_scales_bars_to_the_largest_value() -> None:
    chart = bar_chart([("2026-W07", 10), ("2026-W08", 5), ("unknown", 0)])
    tall, half, empty = chart.bars
    assert tall.y == chart.ticks[-1].y and tall.height == 2 * half.height and empty.height == 0
    assert tall.label == "09 Feb" and "10 units" in tall.title and empty.unknown
    assert [t.value for t in chart.ticks] == [0, 5, 10] and tall.x < half.x < empty.x
    assert bar_chart([]).empty


def test_the_upload_form_states_its_limit_and_a_bigger_file_gets_a_page_saying_what_to_do(
    operator: FlaskClient, dash_services: Services
) -> None:
    page = operator.get("/feeds").get_data(as_text=True)
    assert "(up to 50 MB)" in page and "connector feeds import FILE --supplier NAME" in page
    dash_services.settings.max_upload_bytes = 4096
    big = b"sku,available\n" + b"SKU-X,1\n" * 1000
    data = {"supplier": "Alpha Direct", "file": (io.BytesIO(big), "big.csv"), "csrf_token": csrf_from(operator, "/feeds")}
    response = operator.post("/feeds/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "That feed file is too large to upload" in text and "up to 4 KB" in text
    assert "connector feeds import FILE --supplier NAME" in text and "Request Entity Too Large" not in text
    assert supplier_skus(dash_services, "Alpha Direct") == ["SKU-YELLOW"]  # nothing imported


def test_a_feed_with_no_valid_row_is_refused_in_red_and_stays_shown(operator: FlaskClient,
                                                                    dash_services: Services) -> None:
    page = upload(operator, b"sku,available\nA,-1\nB,x\n", "bad.csv")
    assert 'class="flash error"' in page and "no valid rows (all 2 rows were rejected)" in page
    assert "the latest feed was refused whole" in page  # stays on the page after the flash
    assert supplier_skus(dash_services, "Alpha Direct") == ["SKU-YELLOW"]
