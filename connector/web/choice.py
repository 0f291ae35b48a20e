"""The customer's answer to a delay notice: keep waiting for the backordered items, or cancel the order.

GET  /choice/<token>
    A small page naming the order, with two buttons (keep waiting / cancel) in a POST form
    carrying a CSRF token; shows the choice already recorded, if any.
POST /choice/<token>   form: choice=wait|cancel, csrf_token
    Records the choice in customer_choices (one row per order and notice; the last choice wins
    and is shown to the merchant again) and shows a thank-you page.
A malformed, altered or expired token, an order that no longer exists, a bad choice or a missing
CSRF token: a 400 page. The token is signed by connector.notify.links.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import InputError
from connector.notify.links import ChoiceClaim, read_choice_token
from connector.store.models import CustomerChoice, Order, Shop, utcnow
from connector.store.repo import upsert
from connector.web.context import current_services
from connector.web.csrf import FORM_FIELD, csrf_token, csrf_valid

blueprint = Blueprint("choice", __name__)

CHOICES = {"wait": "keep waiting", "cancel": "cancel the order"}


def _page(template: str, http_status: int = 200, **context: object) -> Response:
    response = make_response(render_template(template, **context), http_status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(message: str) -> Response:
    return _page("message.html", 400, title="This link cannot be used", message=message, status=400)


@blueprint.route("/choice/<token>", methods=["GET", "POST"])
def choice(token: str) -> Response:
    services = current_services()
    try:
        claim = read_choice_token(services.settings.connector_secret_key or "", token)
    except InputError as exc:
        return _problem(f"{exc.problem.capitalize()}. Please use the link in your most recent email.")
    with services.db.session() as session:
        found = _order(session, claim)
        if found is None:
            return _problem("This order is no longer available. Please contact the store.")
        order_name, store_name = found
        if request.method == "GET":
            previous = session.scalar(
                select(CustomerChoice.choice).where(
                    CustomerChoice.order_id == claim.order_id, CustomerChoice.notice_ref == claim.notice_ref
                )
            )
            return _page("choice.html", order_name=order_name, store_name=store_name, previous=CHOICES.get(previous or ""),
                         csrf_field=FORM_FIELD, csrf_token=csrf_token())
        if not csrf_valid():
            return _problem("This form has expired. Please open the link from your email again.")
        picked = request.form.get("choice", "")
        if picked not in CHOICES:
            return _problem("Please choose one of the two buttons.")
        upsert(
            session,
            CustomerChoice.__table__,
            {"shop_id": claim.shop_id, "order_id": claim.order_id, "notice_ref": claim.notice_ref,
             "choice": picked, "chosen_at": utcnow(), "handled_at": None},
            ("order_id", "notice_ref"),
        )
    return _page("choice_done.html", order_name=order_name, store_name=store_name, choice=picked, label=CHOICES[picked])


def _order(session: Session, claim: ChoiceClaim) -> tuple[str, str] | None:
    """(order name, store name) for the claim's order, if it still exists in the claim's shop."""
    row = session.execute(
        select(Order.name, Shop.name)
        .join(Shop, Shop.id == Order.shop_id)
        .where(Order.id == claim.order_id, Order.shop_id == claim.shop_id)
    ).first()
    return None if row is None else (row[0], row[1])
