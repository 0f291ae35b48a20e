"""The Reorder page: the advice table, the purchase suggestion, the CSV export with formula-guarded cells."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from connector.services import Services
from connector.store.models import InventoryLevel, Order, OrderLine
from tests.dashboard.dashboard_seed import Seeded

FORMULA_SKU = "=HYPERLINK(\"http://evil.example\")"


def add_selling_sku(services: Services, shop_id: int) -> None:
    """A SKU selling 3 a day for 30 days with 10 in stock and nothing on order: a backorder is likely."""
    # Each order at the start of its UTC day, so the 30 days are today and the 29 before it at any hour.
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with services.db.session() as session:
        session.add(InventoryLevel(shop_id=shop_id, sku=FORMULA_SKU, location_id="1", quantity=10))
        for back in range(30):
            at = midnight - timedelta(days=back)
            order = Order(shop_id=shop_id, platform_id=f"9{back:03d}", name=f"#9{back:03d}", created_at=at,
                          updated_at=at, is_open=False, status="closed, paid")
            session.add(order)
            session.flush()
            session.add(OrderLine(order_id=order.id, platform_id=f"9{back:03d}-1", sku=FORMULA_SKU, quantity=3,
                                  open_quantity=0))


def test_reorder_page_lists_likely_backorders_first_with_a_purchase_suggestion(
        operator: FlaskClient, seeded: Seeded, dash_services: Services) -> None:
    add_selling_sku(dash_services, seeded.shops["alpha"])
    page = operator.get("/reorder").get_data(as_text=True)
    assert "Advice only" in page
    assert "backorder likely by" in page
    assert page.index("backorder likely by") < page.index("backordered now")
    assert "Purchase suggestion per supplier" in page and "no supplier in any feed" in page
    assert "1 SKU</strong> will likely run out" in page
    assert "95.0% service level" in page
    higher = operator.get("/reorder?service_level=99").get_data(as_text=True)
    assert "99.0% service level" in higher
    assert "a service level is a percentage" in operator.get("/reorder?service_level=abc").get_data(as_text=True)


def test_reorder_csv_has_the_table_and_never_starts_a_formula(operator: FlaskClient, seeded: Seeded,
                                                              dash_services: Services) -> None:
    add_selling_sku(dash_services, seeded.shops["alpha"])
    response = operator.get("/reorder.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    first = rows[0]
    assert first["sku"] == "'" + FORMULA_SKU
    assert first["status"] == "likely" and first["backorder_likely_by"]
    assert int(first["suggested_qty"]) > 0
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_reorder_page_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/reorder").status_code == 302
    assert client.get("/reorder.csv").status_code == 302


def test_sku_page_shows_demand_beside_stock_and_incoming_supply(operator: FlaskClient, seeded: Seeded,
                                                               dash_services: Services) -> None:
    add_selling_sku(dash_services, seeded.shops["alpha"])
    page = operator.get("/skus/detail", query_string={"sku": FORMULA_SKU}).get_data(as_text=True)
    assert "Demand, incoming supply and projected stock" in page
    assert "3.00" in page  # units per day
    assert page.count('class="bar demand"') == 13 and page.count('class="bar supply"') == 8
    assert '<polyline points="' in page and "projected in stock" in page
    assert "backorder likely by" in page


def test_demand_chart_geometry_by_hand() -> None:
    from datetime import date

    from connector.engine.reorder import Arrival
    from connector.web.dashboard.demand_chart import demand_chart, weekly_demand

    today = date(2026, 6, 30)
    daily = [1] * 14
    assert weekly_demand(daily, today, weeks=3) == [(date(2026, 6, 10), 0), (date(2026, 6, 17), 7),
                                                   (date(2026, 6, 24), 7)]
    chart = demand_chart(daily, today, 10, [Arrival(date(2026, 7, 9), 20)], 1.0)
    supply = [column for column in chart.columns if column.kind == "supply"]
    assert [column.value for column in supply][:3] == [0, 20, 0]
    # Projected stock at each week's end: 10 - 7 = 3, 3 + 20 - 7 = 16, 9, 2, -5 ...
    titles = [title for _x, _y, title in chart.stock_points]
    assert titles[1].endswith(": 3 projected in stock") and titles[2].endswith(": 16 projected in stock")
    assert titles[5].endswith(": -5 projected in stock")
    assert chart.ticks[0].value < 0 < chart.ticks[-1].value


def test_order_and_sku_pages_show_each_lines_reason(operator: FlaskClient, seeded: Seeded,
                                                   dash_services: Services) -> None:
    from sqlalchemy import select

    from connector.store.models import LineDecision

    with dash_services.db.session() as session:
        decision, sku = session.execute(
            select(LineDecision, OrderLine.sku).join(OrderLine, OrderLine.id == LineDecision.order_line_id)
            .where(OrderLine.order_id == seeded.orders["ada"], LineDecision.backordered > 0)).first()  # type: ignore[misc]
        decision.reason = "supplier_delay"
    order_page = operator.get(f"/orders/{seeded.orders['ada']}").get_data(as_text=True)
    assert "<th>Why</th>" in order_page and ">supplier delay</span>" in order_page
    sku_page = operator.get("/skus/detail", query_string={"sku": sku}).get_data(as_text=True)
    assert ">supplier delay</span>" in sku_page
