"""The customer's answer to a delay notice: keep waiting for the backordered items, or cancel them.

GET  /choice/<token>
    A page in the order's language naming the order and the store, listing the items still awaited
    with their quantities and the current ETA (as the customer was last told), and offering the
    choice in the very words of the email, with two buttons in a POST form carrying a CSRF token;
    shows the choice already recorded, if any.
POST /choice/<token>   form: choice=wait|cancel, csrf_token
    Records the choice in customer_choices (one row per order and notice; the last choice wins
    and is shown to the merchant again) and shows a thank-you page. A "cancel" is requested at once
    (`pipeline.cancels`: queued, or waiting for the merchant's approval, per cancel_mode); once it is
    refunded, the page says what was refunded and by when the money arrives, and offers no buttons.
A malformed, altered or expired token, an order that no longer exists, a bad choice or a missing
CSRF token: a 400 page. The token is signed by connector.notify.links.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.errors import InputError
from connector.notify import ChoicePage, NoticeContext, Refund, render_choice_page
from connector.notify.links import ChoiceClaim, read_choice_token
from connector.notify.policy import DELAY_KINDS
from connector.pipeline.cancels import cancel_mode, request_cancel
from connector.notify.compose import notice_context, templates_dir_for
from connector.services import Services
from connector.settings import Settings
from connector.store.models import (
    Action,
    Cancellation,
    CustomerChoice,
    Order,
    Shop,
    utcnow,
)
from connector.store.repo import upsert
from connector.web.context import current_services
from connector.web.csrf import FORM_FIELD, csrf_token, csrf_valid

blueprint = Blueprint("choice", __name__)

CHOICES = ("wait", "cancel")


def _page(template: str, http_status: int = 200, **context: object) -> Response:
    response = make_response(render_template(template, **context), http_status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(message: str) -> Response:
    return _page("message.html", 400, title="This link cannot be used", message=message, status=400)


def _read_claim(services: Services, token: str) -> ChoiceClaim:
    """The link's claim, signed with the current key or, while a rotation is under way, the previous one
    (links already mailed to customers keep working)."""
    settings = services.settings
    try:
        return read_choice_token(settings.connector_secret_key or "", token)
    except InputError:
        if not settings.connector_secret_key_previous:
            raise
        return read_choice_token(settings.connector_secret_key_previous, token)


@blueprint.route("/choice/<token>", methods=["GET", "POST"])
def choice(token: str) -> Response:
    services = current_services()
    try:
        claim = _read_claim(services, token)
    except InputError as exc:
        return _problem(f"{exc.problem.capitalize()}. Please use the link in your most recent email.")
    with services.db.session() as session:
        found = _order(session, claim)
        if found is None:
            return _problem("This order is no longer available. Please contact the store.")
        order, shop = found
        context = _what_the_customer_was_told(session, shop, order, claim)
        override = templates_dir_for(shop, services.settings)
        if request.method == "GET":
            previous = session.scalar(
                select(CustomerChoice.choice).where(
                    CustomerChoice.order_id == claim.order_id, CustomerChoice.notice_ref == claim.notice_ref
                )
            )
            page = render_choice_page(context, locale=order.locale, override_dir=override, previous=previous,
                                      cancel_state=_cancel_state(session, order))
            return _choice_page(page, context)
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
        if picked == "cancel":
            _carry_out_choice(session, shop, order, services.settings)
        done = render_choice_page(context, locale=order.locale, override_dir=override, picked=picked,
                                  cancel_state=_refund_of(session, order))
    return _page("choice_done.html", page=done, order_name=context.order_name, store_name=context.store_name)


def _carry_out_choice(session: Session, shop: Shop, order: Order, settings: Settings) -> None:
    """A cancel is requested at once (queued, or waiting for the merchant's approval, per cancel_mode)."""
    if cancel_mode(shop, settings) == "off":
        return  # recorded as the customer's choice; the merchant handles it
    session.flush()
    request_cancel(session, shop, order, reason="customer", today=utcnow().date(), settings=settings)
    session.execute(update(CustomerChoice).where(CustomerChoice.order_id == order.id, CustomerChoice.choice == "cancel",
                                                 CustomerChoice.handled_at.is_(None)).values(handled_at=utcnow()))


def _cancellation(session: Session, order: Order) -> Cancellation | None:
    return session.scalar(select(Cancellation).where(Cancellation.order_id == order.id,
                                                     Cancellation.status.not_in(("declined", "off"))))


def _refund_of(session: Session, order: Order) -> Refund | None:
    row = _cancellation(session, order)
    if row is None or row.status != "done" or row.refund_amount is None:
        return None
    return Refund(row.refund_amount, row.currency or "", row.refund_due_by, row.whole_order)


def _cancel_state(session: Session, order: Order) -> Refund | bool | None:
    """What the page says about the order's cancel: refunded (the amount), being processed, or nothing."""
    row = _cancellation(session, order)
    if row is None:
        return None
    return _refund_of(session, order) or True


def _choice_page(page: ChoicePage, context: NoticeContext) -> Response:
    return _page("choice.html", page=page, order_name=context.order_name, store_name=context.store_name,
                 csrf_field=FORM_FIELD, csrf_token=csrf_token())


def _order(session: Session, claim: ChoiceClaim) -> tuple[Order, Shop] | None:
    """The claim's order and shop, if the order still exists in the claim's shop."""
    row = session.execute(
        select(Order, Shop).join(Shop, Shop.id == Order.shop_id)
        .where(Order.id == claim.order_id, Order.shop_id == claim.shop_id)
    ).first()
    return None if row is None else (row[0], row[1])


def _what_the_customer_was_told(session: Session, shop: Shop, order: Order, claim: ChoiceClaim) -> NoticeContext:
    """The items and ETA of the latest delay notice sent for the order (else the one the link came with)."""
    notices = list(session.scalars(
        select(Action).where(Action.order_id == order.id, Action.kind == "notify").order_by(Action.id.desc())
    ))
    delay = [a for a in notices if (a.payload or {}).get("notice") in DELAY_KINDS]
    sent = [a for a in delay if a.status == "sent"]
    linked = [a for a in delay if claim.notice_ref.endswith(str((a.payload or {}).get("ref")))]
    chosen = next(iter(sent or linked or delay), None)
    return notice_context(shop, order, chosen.payload if chosen is not None else {}, choice_link=None)
