"""Backordered orders: the searchable list, its CSV export, one order's page, and its resend/release buttons.

GET  /orders                     ?q=&week=&status=&sort=&dir=&page=   the list (50 a page)
GET  /orders.csv                 same filters, every match, one row per backordered line
GET  /orders/<id>                one order: lines, ETAs and how they were reached, the ETA history, each
                                 notice as the customer received it, the customer's choices, every action
POST /orders/<id>/resend         queue the latest notice again (a manual resend)
POST /orders/<id>/release        queue a release of the fulfilment hold
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from werkzeug.wrappers import Response as BaseResponse
from sqlalchemy import select

from connector.errors import InputError
from connector.pipeline.mailorder import rule_summary
from connector.pipeline.requested import queue_release, queue_resend
from connector.store.models import CustomerChoice, SyncCursor
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, no_shop_page, render, viewer, visible_order
from connector.web.dashboard.formatting import csv_cell, fmt_date, fmt_time
from connector.web.dashboard.queries import (
    PAGE_SIZE,
    SORTS,
    STATUS_FILTERS,
    OrderFilters,
    OrderView,
    count_orders,
    eta_weeks,
    eta_history,
    load_orders,
    order_actions,
    order_ids,
    order_notices,
)

CSV_HEADER = (
    "shop", "order", "placed", "customer", "email", "sku", "title", "ordered", "backordered",
    "line_eta", "eta_source", "order_eta", "store_updates", "notice", "notice_at", "notice_channel",
)
CSV_BATCH = 200


@blueprint.get("/orders")
def orders() -> str:
    who = viewer()
    filters = OrderFilters.from_args(request.args)
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        total = count_orders(db, shop.id, filters)
        views = load_orders(db, shop.id, order_ids(db, shop.id, filters))
        weeks = eta_weeks(db, shop.id)
        # Databases from before shop health was recorded still have the sync cursor's last run.
        last_good = shop.sync_ok_at or db.scalar(
            select(SyncCursor.last_run_at).where(SyncCursor.shop_id == shop.id, SyncCursor.resource == "orders"))
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        "orders.html", title="Backordered orders", shop=shop, orders=views, total=total, filters=filters,
        weeks=weeks, statuses=STATUS_FILTERS, sorts=SORTS, pages=pages, last_good=last_good,
    )


def _notice_cells(view: OrderView) -> tuple[str, str, str]:
    notice = view.notice
    if notice is None:
        return "none", "", ""
    return notice.status, fmt_time(notice.finished_at, ""), notice.channel or ""


@blueprint.get("/orders.csv")
def orders_csv() -> Response:
    who = viewer()
    filters = OrderFilters.from_args(request.args)
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            abort(404)
        shop_id, shop_label = shop.id, shop.name or shop.domain
        ids = order_ids(db, shop_id, filters, paged=False)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for start in range(0, len(ids), CSV_BATCH):
            with current_services().db.session() as db:
                views = load_orders(db, shop_id, ids[start : start + CSV_BATCH])
            for view in views:
                notice, notice_at, channel = _notice_cells(view)
                for line in view.backordered_lines:
                    writer.writerow([
                        csv_cell(v) for v in (
                            shop_label, view.name, fmt_time(view.created_at), view.customer, view.email or "",
                            line.sku or "", line.title, line.open_quantity, line.backordered, fmt_date(line.eta),
                            line.eta_source or "", fmt_date(view.eta), view.push_state, notice, notice_at, channel,
                        )
                    ])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="backorders.csv"'
    return response


@blueprint.get("/orders/<int:order_id>")
def order_detail(order_id: int) -> str:
    who = viewer()
    with current_services().db.session() as db:
        order = visible_order(db, who, order_id)
        views = load_orders(db, order.shop_id, [order.id])
        actions = order_actions(db, order.id)
        notices = order_notices(db, order.id)
        history = eta_history(db, order.id)
        choices = list(db.scalars(select(CustomerChoice).where(CustomerChoice.order_id == order.id)
                                  .order_by(CustomerChoice.chosen_at.desc())))
        rule = rule_summary(db, order, current_services().today())
    return render("order.html", title=f"Order {views[0].name}", order=views[0], actions=actions, choices=choices,
                  notices=notices, history=history, rule=rule)


def _queue(order_id: int, what: str) -> BaseResponse:
    who = viewer()
    with current_services().db.session() as db:
        order = visible_order(db, who, order_id)
        try:
            if what == "resend":
                queue_resend(db, order)
                message = f"A copy of the last notice for {order.name} was queued (manual resend)."
            else:
                queue_release(db, order)
                message = f"Releasing the fulfilment hold of {order.name} was queued."
        except InputError as error:
            flash(str(error), "error")
        else:
            flash(message + " A worker carries it out within moments.", "ok")
    return redirect(url_for("dashboard.order_detail", order_id=order_id))


@blueprint.post("/orders/<int:order_id>/resend")
def resend_notice(order_id: int) -> BaseResponse:
    return _queue(order_id, "resend")


@blueprint.post("/orders/<int:order_id>/release")
def release_hold(order_id: int) -> BaseResponse:
    return _queue(order_id, "release")
