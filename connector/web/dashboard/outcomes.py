"""The Outcomes page: weekly backorder rate and promise-kept rate as charts, and the report table, with a CSV.

GET /outcomes       the two weekly charts and the report per shop and per supplier (the figures of
                    `connector report`, for this shop's orders)
GET /outcomes.csv   the report table as CSV, one row per shop and per supplier
"""

from __future__ import annotations

from typing import Any

from flask import Response

from connector.csvout import csv_text
from connector.pipeline.outcomes import REPORT_COLUMNS, WeekOutcome, outcomes_report, weekly_outcomes
from connector.store.models import utcnow
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, render
from connector.web.dashboard.chart import BarChart, bar_chart
from connector.web.dashboard.queries import iso_week
from connector.web.dashboard.suppliers import csv_response, page_shop, shop_or_404


def rate_chart(weeks: list[WeekOutcome], rate: str, what: str, caption: str) -> BarChart:
    """Bars of a weekly rate in percent; a week with nothing to count has no bar."""
    points = [(iso_week(week.monday), round(100 * value)) for week in weeks
              if (value := getattr(week, rate)) is not None]
    return bar_chart(points, title=lambda long, value: f"{long}: {value}% {what}", caption=caption, suffix="%")


def _report(shop_id: int) -> dict[str, list[dict[str, Any]]]:
    with current_services().db.session() as db:
        return outcomes_report(db, utcnow().date(), shop_id=shop_id)


@blueprint.get("/outcomes")
def outcomes() -> str:
    shop = page_shop()
    today = utcnow().date()
    with current_services().db.session() as db:
        weeks = weekly_outcomes(db, today, shop_id=shop.id)
        report = outcomes_report(db, today, shop_id=shop.id)
    backorders = rate_chart(weeks, "backorder_rate", "of orders placed had a backordered line",
                            "week the orders were placed (Monday)")
    kept = rate_chart(weeks, "promise_kept_rate", "of the promises due were kept",
                      "week the first date told fell in (Monday)")
    return render("outcomes.html", title="Outcomes", shop=shop, weeks=weeks, report=report, backorders=backorders,
                  kept=kept)


@blueprint.get("/outcomes.csv")
def outcomes_csv() -> Response:
    shop = shop_or_404()
    report = _report(shop.id)
    rows = [["shop", *(row[column] for column in REPORT_COLUMNS)] for row in report["shops"]]
    rows += [["supplier", *(row[column] for column in REPORT_COLUMNS)] for row in report["suppliers"]]
    return csv_response(csv_text(("scope", *REPORT_COLUMNS), rows), "outcomes.csv")
