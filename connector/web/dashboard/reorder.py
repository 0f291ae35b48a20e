"""The Reorder page: safety stock, reorder points and order-by dates per SKU, per-supplier purchase suggestions, CSV.

GET /reorder              the advice table (likely backorders first) and what to order from each supplier
GET /reorder.csv          the same table as CSV, formula-guarded (`csv_cell`)

The connector advises; it never places a purchase order.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from flask import Response, abort, request

from connector.engine.reorder import MAX_SERVICE_LEVEL, MIN_SERVICE_LEVEL, purchase_suggestions
from connector.pipeline.advice import ADVICE_COLUMNS, ShopAdvice, advice_settings, advice_to_dict, shop_advice
from connector.services import Services
from connector.store.models import Shop, utcnow
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, no_shop_page, render, viewer
from connector.web.dashboard.formatting import csv_cell


def _service_level() -> float | None:
    """The `?service_level=` of the request (a share or a percentage), None when absent or out of range."""
    raw = (request.args.get("service_level") or "").strip().rstrip("%")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if value > 1:
        value /= 100
    return value if MIN_SERVICE_LEVEL <= value <= MAX_SERVICE_LEVEL else None


def _advice(services: Services, shop: Shop) -> ShopAdvice:
    settings = advice_settings(shop, services.settings.service_level, services.settings.reorder_cover_days)
    asked = _service_level()
    if asked is not None:
        settings = replace(settings, service_level=asked)
    with services.db.session() as db:
        return shop_advice(db, shop, utcnow().date(), services.policy, settings)


@blueprint.get("/reorder")
def reorder() -> str:
    who = viewer()
    services = current_services()
    with services.db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        db.expunge(shop)
    result = _advice(services, shop)
    return render("reorder.html", title="Reorder", shop=shop, result=result,
                  suggestions=purchase_suggestions(result.items),
                  likely=sum(1 for item in result.items if item.status == "likely"),
                  bad_level=bool(request.args.get("service_level")) and _service_level() is None)


@blueprint.get("/reorder.csv")
def reorder_csv() -> Response:
    who = viewer()
    services = current_services()
    with services.db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            abort(404)
        db.expunge(shop)
    result = _advice(services, shop)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ADVICE_COLUMNS)
    for item in result.items:
        row = advice_to_dict(item)
        writer.writerow([csv_cell("" if row[column] is None else row[column]) for column in ADVICE_COLUMNS])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="reorder.csv"'
    return response
