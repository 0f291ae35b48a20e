"""The Suppliers page: a scorecard per supplier, its lateness histogram and the learned lateness model, with CSVs.

GET /suppliers               scorecards (the figures of `connector suppliers list`), a histogram of each
                             supplier's deliveries by days late, and the model the ETAs are shifted by
GET /suppliers.csv           the scorecard table as CSV
GET /suppliers/lateness.csv  the model as CSV, the columns of `connector suppliers lateness --csv`

Both the page and the CLI read `connector.pipeline.suppliers.scorecards`; a merchant sees the suppliers
of their own shop and the shared ones.
"""

from __future__ import annotations

from flask import Response, abort

from connector.csvout import csv_text
from connector.engine.lateness import LatenessModel
from connector.feeds.lateness_file import HEADER as LATENESS_HEADER
from connector.feeds.lateness_file import lateness_rows
from connector.pipeline.suppliers import SCORECARD_COLUMNS, Scorecard, scorecards
from connector.store.models import Shop, utcnow
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, no_shop_page, render, viewer
from connector.web.dashboard.chart import BarChart, bar_chart

# Wider spans than this are drawn in bins of a week, so a supplier 60 days late still fits the chart.
DAILY_SPAN = 30


def _days_label(key: str) -> tuple[str, str]:
    low, _, high = key.partition("..")
    start = int(low)
    if high:
        return f"{start}…{int(high)}", f"{start} to {int(high)} days late"
    if start == 0:
        return "0", "On time"
    return f"{start:+d}", f"{start} day{'s' if abs(start) != 1 else ''} late" if start > 0 else \
        f"{-start} day{'s' if start != -1 else ''} early"


def _deliveries_title(long: str, value: int) -> str:
    return f"{long}: {value} deliver{'y' if value == 1 else 'ies'}"


def lateness_histogram(histogram: dict[int, int]) -> BarChart:
    """Deliveries by days late (arrival − promised arrival): one bar per day, or per week of days when wide."""
    points: list[tuple[str, int]] = []
    if histogram:
        low, high = min(histogram), max(histogram)
        if high - low <= DAILY_SPAN:
            points = [(str(day), histogram.get(day, 0)) for day in range(low, high + 1)]
        else:
            for start in range(low, high + 1, 7):
                units = sum(count for day, count in histogram.items() if start <= day < start + 7)
                points.append((f"{start}..{start + 6}", units))
    return bar_chart(points, label=_days_label, title=_deliveries_title,
                     caption="days late (arrival − promised arrival; below 0: early)")


def _cards(shop: Shop) -> tuple[list[Scorecard], LatenessModel]:
    services = current_services()
    with services.db.session() as db:
        return scorecards(db, utcnow().date(), services.settings.eta_confidence, shop.id)


def page_shop() -> Shop:
    who = viewer()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            no_shop_page()
        db.expunge(shop)
    return shop


def csv_response(text: str, filename: str) -> Response:
    """A CSV download: text/csv in UTF-8, saved under `filename`."""
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.get("/suppliers")
def suppliers() -> str:
    shop = page_shop()
    cards, model = _cards(shop)
    charts = [(card, lateness_histogram(card.histogram)) for card in cards if card.histogram]
    return render("suppliers.html", title="Suppliers", shop=shop, cards=cards, charts=charts,
                  model_rows=lateness_rows(model), confidence=current_services().settings.eta_confidence)


@blueprint.get("/suppliers.csv")
def suppliers_csv() -> Response:
    shop = shop_or_404()
    cards, _model = _cards(shop)
    return csv_response(csv_text(SCORECARD_COLUMNS, (card.as_row() for card in cards)), "suppliers.csv")


@blueprint.get("/suppliers/lateness.csv")
def lateness_csv() -> Response:
    shop = shop_or_404()
    _cards_, model = _cards(shop)
    return csv_response(csv_text(LATENESS_HEADER, lateness_rows(model)), "lateness.csv")


def shop_or_404() -> Shop:
    who = viewer()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            abort(404)
        db.expunge(shop)
    return shop
