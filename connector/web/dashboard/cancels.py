"""The cancel queue: customers' cancels (and the mail-order rule's) waiting for Approve or Decline, failures, refunds.

GET  /cancellations                  waiting for approval (with the 7-working-day refund deadline counting
                                     down), refused by the store or its gateway (with its message), done
POST /cancellations/<id>/approve     queue the cancel and refund (recorded with who approved it)
POST /cancellations/<id>/decline     do not cancel (recorded with who declined it); the merchant tells the customer
POST /cancellations/<id>/retry       ask the store again after fixing what its gateway refused
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from connector.engine.mailorder import working_days_left
from connector.pipeline.cancels import decide, retry_failed
from connector.store.models import Cancellation, Order
from connector.web.context import current_services
from connector.web.dashboard.access import (
    Viewer,
    blueprint,
    current_shop,
    no_shop_page,
    render,
    require_visible,
    viewer,
)

RECENT = 50


def _who(who: Viewer) -> str:
    return "operator (dashboard)" if who.is_operator else "merchant (dashboard)"


@blueprint.get("/cancellations")
def cancellations() -> str:
    who = viewer()
    services = current_services()
    today = services.today()
    with services.db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        rows = db.execute(select(Cancellation, Order.name).join(Order, Order.id == Cancellation.order_id)
                          .where(Cancellation.shop_id == shop.id).order_by(Cancellation.id.desc()).limit(RECENT * 3))
        items = [{"row": row, "order_name": name, "days_left": working_days_left(today, row.refund_due_by)}
                 for row, name in rows]
    waiting = [i for i in items if i["row"].status == "awaiting_approval"]
    failed = [i for i in items if i["row"].status == "failed"]
    others = [i for i in items if i["row"].status not in ("awaiting_approval", "failed")][:RECENT]
    return render("cancellations.html", title="Cancellations", waiting=waiting, failed=failed, others=others,
                  today=today)


def _decide(cancellation_id: int, verb: str) -> Response:
    who = viewer()
    services = current_services()
    with services.db.session() as db:
        row = db.get(Cancellation, cancellation_id)
        if row is None:
            abort(404)
        require_visible(who, row.shop_id)
        order = db.get(Order, row.order_id)
        name = order.name if order else str(row.order_id)
        if verb == "retry":
            changed = retry_failed(db, row, _who(who))
        else:
            changed = decide(db, row, approve=verb == "approve", who=_who(who), settings=services.settings)
    if not changed:
        flash(f"The cancel of {name} is {row.status.replace('_', ' ')}; nothing was changed.", "error")
    elif verb == "decline":
        flash(f"Declined: {name} is not cancelled. Please tell the customer yourself.", "ok")
    else:
        flash(f"The cancel and refund of {name} is queued; a worker carries it out within moments.", "ok")
    return redirect(url_for("dashboard.cancellations"))


@blueprint.post("/cancellations/<int:cancellation_id>/approve")
def cancellation_approve(cancellation_id: int) -> Response:
    return _decide(cancellation_id, "approve")


@blueprint.post("/cancellations/<int:cancellation_id>/decline")
def cancellation_decline(cancellation_id: int) -> Response:
    return _decide(cancellation_id, "decline")


@blueprint.post("/cancellations/<int:cancellation_id>/retry")
def cancellation_retry(cancellation_id: int) -> Response:
    return _decide(cancellation_id, "retry")
