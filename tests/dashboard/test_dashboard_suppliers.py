"""The Suppliers and Outcomes pages and their CSV exports: the CLI's figures, neutralised cells, shop scope,
an empty database and the login."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.csvout import csv_text, safe_cell, unguard
from connector.pipeline.outcomes import outcomes_report
from connector.pipeline.suppliers import scorecards
from connector.services import Services
from connector.store.models import utcnow
from connector.web.app import create_app
from tests.conftest import make_settings
from tests.dashboard.conftest import ADMIN_PASSWORD, login_operator
from tests.dashboard.dashboard_seed import Seeded
from tests.dashboard.supplier_seed import FORMULA, OCEAN, add_supplier_history


@pytest.fixture
def history(dash_services: Services, seeded: Seeded, tmp_path: Path) -> Seeded:
    add_supplier_history(dash_services, seeded, tmp_path)
    return seeded


def table(response: object) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))  # type: ignore[attr-defined]


def bars(page: str) -> int:
    return len(re.findall(r'<rect [^>]*class="bar', page))


def test_cells_that_start_a_formula_are_neutralised_and_numbers_are_not() -> None:
    for text in ("=1+1", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text and unguard(safe_cell(text)) == text
    assert safe_cell(-2) == "-2" and safe_cell(1.5) == "1.5" and safe_cell(None) == "" and safe_cell("#1") == "#1"
    assert unguard("'plain") == "'plain"
    assert csv_text(("a", "b"), [("=x", -1)]) == "a,b\n'=x,-1\n"


def test_suppliers_page_shows_the_cli_scorecards_and_a_histogram_each(
        operator: FlaskClient, history: Seeded, dash_services: Services) -> None:
    page = operator.get("/suppliers").get_data(as_text=True)
    with dash_services.db.session() as db:
        cards, _model = scorecards(db, utcnow().date(), 0.8, history.shops["alpha"])
    ocean = next(card for card in cards if card.supplier == OCEAN)
    assert ocean.deliveries == 6 and ocean.on_time_rate == pytest.approx(1 / 6)
    assert f"<td>{OCEAN} <span class=\"chip bad\">late</span></td>" in page
    assert "Beta Supply Co" not in page  # another shop's supplier
    assert "&#34;http://evil.example&#34;" in page or "&quot;http://evil.example&quot;" in page  # escaped
    assert page.count('<section class="card lateness">') == 2
    assert bars(page) == (12 - 0 + 1) + (3 + 2 + 1)  # one bar per day from earliest to latest


def test_scorecard_and_lateness_csv_neutralise_formulas_and_match_the_page(operator: FlaskClient, history: Seeded) -> None:
    response = operator.get("/suppliers.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="suppliers.csv"'
    rows = {row["supplier"]: row for row in table(response)}
    assert "'" + FORMULA in rows and FORMULA not in rows
    assert rows[OCEAN]["deliveries"] == "6" and rows[OCEAN]["backordered_waiting"] == "0"
    assert rows["Acme"]["backordered_waiting"] == "3"  # alpha's lines dated from Acme
    model = operator.get("/suppliers/lateness.csv")
    assert model.headers["Content-Disposition"] == 'attachment; filename="lateness.csv"'
    assert model.get_data(as_text=True).startswith("supplier,sku,samples,p50_days,p80_days,p90_days\n")
    figures = {row["supplier"]: row for row in table(model) if not row["sku"]}
    assert set(figures) == {OCEAN, "'" + FORMULA} and figures["'" + FORMULA]["samples"] == "2"


def test_outcomes_page_charts_weekly_rates_and_shows_the_report(
        operator: FlaskClient, history: Seeded, dash_services: Services) -> None:
    page = operator.get("/outcomes").get_data(as_text=True)
    assert 'aria-label="Share of orders with a backordered line, per week"' in page
    assert 'aria-label="Share of promises kept, per week their first date fell in"' in page
    assert bars(page) >= 2 and "50%" in page  # one of the two promises due was kept
    with dash_services.db.session() as db:
        report = outcomes_report(db, utcnow().date(), shop_id=history.shops["alpha"])
    assert [row["name"] for row in report["shops"]] == ["Alpha Outfitters"]
    assert report["shops"][0]["promise_kept_rate"] == 0.5
    rows = table(operator.get("/outcomes.csv"))
    assert [(row["scope"], row["name"]) for row in rows] == [("shop", "Alpha Outfitters"), ("supplier", "Acme"),
                                                            ("supplier", OCEAN)]
    assert rows[0]["promise_kept_rate"] == "0.5" and rows[0]["notices_sent"] == str(report["shops"][0]["notices_sent"])


def test_the_pages_and_exports_need_a_login(client: FlaskClient) -> None:
    for path in ("/suppliers", "/outcomes", "/suppliers.csv", "/suppliers/lateness.csv", "/outcomes.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_empty_database_pages_say_so(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/empty.db", tmp_path, admin_password=ADMIN_PASSWORD)
    services = Services(settings, migrate=True)
    try:
        app: Flask = create_app(services)
        client = app.test_client()
        login_operator(client)
        for path in ("/suppliers", "/outcomes"):
            response = client.get(path)
            assert response.status_code == 200 and "No shop yet" in response.get_data(as_text=True), path
        assert client.get("/suppliers.csv").status_code == 404
    finally:
        services.close()


def test_a_shop_without_history_shows_empty_states(dash_services: Services, seeded: Seeded, app: Flask) -> None:
    client = app.test_client()
    login_operator(client)
    suppliers = client.get("/suppliers").get_data(as_text=True)
    assert "No delivery recorded yet" in suppliers and "Empty: with no delivery yet" in suppliers
    outcomes = client.get("/outcomes").get_data(as_text=True)
    assert "No promise has come due" in outcomes and "Alpha Outfitters" in outcomes
    assert table(client.get("/suppliers/lateness.csv")) == []


def test_sku_page_charts_units_waiting_against_incoming_supply(operator: FlaskClient, seeded: Seeded) -> None:
    page = operator.get("/skus/detail?sku=SKU-RED").get_data(as_text=True)
    assert "Units waiting against incoming supply" in page
    assert re.search(r'<title>Week of [^<]*: 2 waiting</title>', page)  # Ada's units, by their ETA week
    assert re.search(r'<title>Week of [^<]*: 10 arriving</title>', page)  # Acme's restock of 10
    assert 'class="bar supply"' in page
