"""Backorders list, CSV export and order page: search, filters, sort, and the resend/release buttons."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from connector.services import Services
from connector.store.models import Action, Order
from connector.web.dashboard.formatting import csv_cell, safe_source
from connector.web.dashboard.queries import OrderFilters, iso_week, units_by_week, week_start
from tests.dashboard.conftest import post_form
from tests.dashboard.dashboard_seed import Seeded

ORDER_LINK = re.compile(r'class="strong">(#[^<]+)</a>')


def listed(client: FlaskClient, query: str = "") -> list[str]:
    response = client.get("/orders" + query)
    assert response.status_code == 200
    return ORDER_LINK.findall(response.get_data(as_text=True))


def csv_rows(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    response = client.get("/orders.csv" + query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_list_shows_only_backordered_orders_soonest_eta_first(operator: FlaskClient) -> None:
    assert listed(operator) == ["#1001", "#1003", "#1002"]  # #1004 is not backordered; unknown ETA last
    page = operator.get("/orders").get_data(as_text=True)
    assert "supplier Acme: restock" in page and "no supply known" in page
    assert "asks to cancel" in page  # Ada's choice awaits the merchant
    assert "marks · dead" in page and "tag · pending" in page and ">stuck<" in page


def test_search_by_order_sku_or_customer(operator: FlaskClient) -> None:
    assert listed(operator, "?q=1003") == ["#1003"]
    assert listed(operator, "?q=sku-green") == ["#1002"]
    assert listed(operator, "?q=red") == ["#1001", "#1003"]
    assert listed(operator, "?q=LOVELACE") == ["#1001"]
    assert listed(operator, "?q=grace%40example") == ["#1002"]
    assert listed(operator, "?q=%25") == []  # a LIKE wildcard is searched for literally


def test_filter_by_eta_week(operator: FlaskClient, seeded: Seeded) -> None:
    soon_week = iso_week(seeded.today + timedelta(days=10))
    assert listed(operator, f"?week={soon_week}") == ["#1001"]
    assert listed(operator, "?week=unknown") == ["#1002"]
    assert listed(operator, "?week=not-a-week") == ["#1001", "#1003", "#1002"]
    assert f'value="{soon_week}"' in operator.get("/orders").get_data(as_text=True)


def test_filter_by_status(operator: FlaskClient) -> None:
    assert listed(operator, "?status=push_pending") == ["#1002"]
    assert listed(operator, "?status=push_failed") == ["#1003"]
    assert listed(operator, "?status=notice_sent") == ["#1001"]
    assert listed(operator, "?status=notice_stuck") == ["#1002"]
    assert listed(operator, "?status=no_notice") == ["#1003"]
    assert listed(operator, "?status=choice_waiting") == ["#1001"]
    assert listed(operator, "?status=push_failed&q=1001") == []


def test_sort_by_each_column(operator: FlaskClient) -> None:
    assert listed(operator, "?sort=units&dir=desc") == ["#1001", "#1003", "#1002"]  # unknown ETA still last
    assert listed(operator, "?sort=order&dir=desc") == ["#1003", "#1001", "#1002"]
    assert listed(operator, "?sort=customer") == ["#1001", "#1003", "#1002"]
    assert listed(operator, "?sort=created") == ["#1001", "#1003", "#1002"]
    assert listed(operator, "?sort=eta&dir=desc") == ["#1003", "#1001", "#1002"]


def test_csv_has_one_row_per_backordered_line_with_the_same_filters(operator: FlaskClient, seeded: Seeded) -> None:
    rows = csv_rows(operator)
    assert [(r["order"], r["sku"], r["backordered"]) for r in rows] == [
        ("#1001", "SKU-RED", "2"), ("#1003", "SKU-RED", "1"), ("#1002", "SKU-GREEN", "3"),
    ]
    ada = rows[0]
    assert ada["customer"] == "Ada Lovelace" and ada["shop"] == "Alpha Outfitters"
    assert ada["line_eta"] == (seeded.today + timedelta(days=10)).isoformat() == ada["order_eta"]
    assert ada["eta_source"].startswith("supplier Acme: restock")
    assert (ada["store_updates"], ada["notice"], ada["notice_channel"]) == ("done", "sent", "smtp")
    assert rows[2]["line_eta"] == "unknown" and rows[2]["notice"] == "sending"
    assert [r["order"] for r in csv_rows(operator, "?q=green")] == ["#1002"]
    assert [r["order"] for r in csv_rows(operator, "?status=push_failed")] == ["#1003"]
    assert csv_rows(operator, "?q=nobody") == []


def test_csv_cells_never_start_a_formula() -> None:
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("-1") == "'-1" and csv_cell("@x") == "'@x" and csv_cell("#1001") == "#1001"
    assert csv_cell(None) == "" and csv_cell(3) == "3"


def test_order_page_shows_lines_etas_sources_and_every_action(operator: FlaskClient, seeded: Seeded) -> None:
    page = operator.get(f"/orders/{seeded.orders['ada']}").get_data(as_text=True)
    assert "Order #1001" in page and "Red Lantern" in page and "Blue Mug" in page
    assert "supplier Acme: restock" in page and "in stock" in page
    for kind in ("tag", "marks", "note", "hold", "notify"):
        assert f"<td>{kind}" in page
    assert "Cancel the items that have not shipped" in page and "Mark handled" in page
    assert operator.get("/orders/99999").status_code == 404


def test_resend_queues_a_manual_notice_with_a_fresh_key(operator: FlaskClient, seeded: Seeded,
                                                        dash_services: Services) -> None:
    ada = seeded.orders["ada"]
    for _ in range(2):
        response = post_form(operator, f"/orders/{ada}/resend")
        assert response.status_code == 302
    page = operator.get(f"/orders/{ada}").get_data(as_text=True)
    assert "manual resend" in page and "queued (manual resend)" in page
    with dash_services.db.session() as db:
        notices = list(db.scalars(select(Action).where(Action.order_id == ada, Action.kind == "notify").order_by(Action.id)))
    original, *copies = notices
    assert len(copies) == 2 and all(c.status == "pending" and c.payload["manual"] for c in copies)
    assert len({a.idempotency_key for a in notices}) == 3
    refs = {a.payload["ref"] for a in notices}
    assert len(refs) == 3 and all(c.payload["resent_from"] == original.payload["ref"] for c in copies)
    assert copies[0].payload["lines"] == original.payload["lines"]


def test_resend_without_a_previous_notice_explains_and_queues_nothing(operator: FlaskClient, seeded: Seeded,
                                                                    dash_services: Services) -> None:
    alan = seeded.orders["alan"]
    post_form(operator, f"/orders/{alan}/resend")
    assert "nothing to resend" in operator.get(f"/orders/{alan}").get_data(as_text=True)
    with dash_services.db.session() as db:
        assert db.scalars(select(Action.kind).where(Action.order_id == alan)).all() == ["marks"]


def test_release_queues_a_release_only_for_a_held_order(operator: FlaskClient, seeded: Seeded,
                                                        dash_services: Services) -> None:
    post_form(operator, f"/orders/{seeded.orders['ada']}/release")
    post_form(operator, f"/orders/{seeded.orders['grace']}/release")
    assert "no fulfilment hold" in operator.get(f"/orders/{seeded.orders['grace']}").get_data(as_text=True)
    with dash_services.db.session() as db:
        releases = list(db.scalars(select(Action).where(Action.kind == "release")))
        assert [(a.order_id, a.status, a.payload) for a in releases] == [(seeded.orders["ada"], "pending", {"manual": True})]
        assert db.get(Order, seeded.orders["ada"]) is not None
    # Released now: the button is disabled and a second release is refused.
    post_form(operator, f"/orders/{seeded.orders['ada']}/release")
    assert "no fulfilment hold" in operator.get(f"/orders/{seeded.orders['ada']}").get_data(as_text=True)


def test_filters_round_trip_through_the_query_string() -> None:
    filters = OrderFilters.from_args({"q": " red ", "week": "2026-W07", "status": "bogus", "sort": "units",
                                      "dir": "desc", "page": "3"})
    assert filters == OrderFilters(q="red", week="2026-W07", status="", sort="units", direction="desc", page=3)
    assert filters.args(page=1) == {"q": "red", "week": "2026-W07", "sort": "units", "dir": "desc"}
    assert filters.sort_link("units") == {"q": "red", "week": "2026-W07", "sort": "units"}  # flips to ascending
    assert filters.sort_link("eta") == {"q": "red", "week": "2026-W07"}
    assert OrderFilters.from_args({"page": "-2", "sort": "drop table"}) == OrderFilters()
    assert week_start("2026-W07").isoformat() == "2026-02-09"  # type: ignore[union-attr]


def test_units_by_week_groups_and_puts_unknown_last(seeded: Seeded) -> None:
    monday = week_start(iso_week(seeded.today))
    assert monday is not None
    rows = [(monday, 2), (monday + timedelta(days=6), 1), (None, 4), (monday + timedelta(days=7), 5)]
    assert units_by_week(rows) == [(iso_week(monday), 3), (iso_week(monday + timedelta(days=7)), 5), ("unknown", 4)]


def test_feed_sources_are_shown_without_credentials() -> None:
    assert safe_source("https://user:pw@feeds.example:8443/a.csv?token=abc#x") == "https://feeds.example:8443/a.csv"
    assert safe_source("/srv/secret-folder/feed.csv") == "feed.csv" and safe_source(None) == ""
