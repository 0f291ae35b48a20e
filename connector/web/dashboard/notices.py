"""Notice previews: every notice kind in every language, rendered for a sample order, and "send me a test".

GET  /notices          each kind (backordered, ETA changed, ready) in each language the shop's notices can
                       be written in, rendered with the shop's own templates for one of its backordered
                       orders (or a made-up sample when it has none): subject, plain text and HTML
POST /notices/test     form: kind, language, to, csrf_token. Sends that preview, marked as a test, to `to`
                       by SMTP (or as a .eml file under DATA_DIR/outbox when SMTP_URL is not set); never to
                       a customer and never through the store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from flask import flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector.engine.mailorder import refund_due_by
from connector.errors import ConnectorError
from connector.notify import (
    NoticeContext,
    NoticeLine,
    OutgoingNotice,
    Refund,
    RenderedNotice,
    render_notice,
)
from connector.notify.channels import email_channel
from connector.notify.message import message_id_for
from connector.notify.policy import DELAY_KINDS, NOTICE_KINDS
from connector.notify.render import available_languages
from connector.notify.compose import templates_dir_for
from connector.store.models import (
    LineDecision,
    Order,
    OrderDecision,
    OrderLine,
    Shop,
    utcnow,
)
from connector.engine.reasons import waiting_supplier
from connector.notify.reasons import REASON_SETTING, reason_note
from connector.web.context import current_services
from connector.web.dashboard.access import (
    blueprint,
    current_shop,
    no_shop_page,
    render,
    viewer,
)

KIND_LABELS = {"backordered": "Backordered", "eta_changed": "ETA changed", "ready": "Ready to ship",
               "cancelled": "Cancelled and refunded"}
LANGUAGE_LABELS = {"en": "English", "de": "German"}


@dataclass(frozen=True, slots=True)
class Preview:
    kind: str
    language: str
    notice: RenderedNotice


def sample_context(db: Session, shop: Shop, kind: str) -> NoticeContext:
    """One of the shop's backordered orders as a notice would show it, or a made-up one when it has none."""
    today = utcnow().date()
    row = db.execute(
        select(Order, OrderDecision).join(OrderDecision, OrderDecision.order_id == Order.id)
        .where(Order.shop_id == shop.id, OrderDecision.status == "backordered")
        .order_by(Order.created_at.desc()).limit(1)
    ).first()
    if row is not None:
        order, decision = row
        texts = shop.setting(REASON_SETTING, None)
        lines = [
            NoticeLine(line.platform_id, line.sku, line.title, choice.backordered, choice.eta, choice.reason,
                       reason_note(texts, line.sku, waiting_supplier(choice.eta_source)))
            for line, choice in db.execute(
                select(OrderLine, LineDecision).join(LineDecision, LineDecision.order_line_id == OrderLine.id)
                .where(OrderLine.order_id == order.id, LineDecision.backordered > 0)
            )
        ]
        name, first_name, eta = order.name, order.customer_first_name, decision.eta
    else:
        eta = today + timedelta(days=9)
        lines = [NoticeLine("1", "MUG-RED", "Red mug", 2, eta, "supplier_delay"),
                 NoticeLine("2", "LAMP-01", "Desk lamp", 1, today + timedelta(days=4), "awaiting_restock")]
        name, first_name = "#1001", "Ada"
    link = f"{current_services().settings.app_url}/choice/preview-only" if kind in DELAY_KINDS else None
    refund = Refund("49.90", "USD", refund_due_by(today), whole_order=False) if kind == "cancelled" else None
    return NoticeContext(order_name=name, store_name=shop.label, lines=lines, order_eta=eta,
                         customer_first_name=first_name, choice_url=link,
                         previous_eta=(eta - timedelta(days=7)) if eta and kind == "eta_changed" else None,
                         refund=refund)


def previews(db: Session, shop: Shop) -> list[Preview]:
    override = templates_dir_for(shop, current_services().settings)
    found = []
    for kind in NOTICE_KINDS:
        context = sample_context(db, shop, kind)
        for language in available_languages(override):
            found.append(Preview(kind, language, render_notice(kind, context, locale=language, override_dir=override)))
    return found


@blueprint.get("/notices")
def notices() -> str:
    who = viewer()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        shown = previews(db, shop)
        label = shop.label
    settings = current_services().settings
    where = "by email (SMTP)" if settings.smtp_url else f"as a .eml file in {settings.outbox_dir}"
    return render("notices.html", title="Customer notices", shop_label=label, previews=shown, kinds=KIND_LABELS,
                  languages=LANGUAGE_LABELS, test_goes=where, default_to=parseaddr(settings.mail_from or "")[1])


@blueprint.post("/notices/test")
def notice_test() -> Response:
    who = viewer()
    services = current_services()
    kind = request.form.get("kind", "")
    language = request.form.get("language", "")
    to = (request.form.get("to") or "").strip()
    back = redirect(url_for("dashboard.notices"))
    if kind not in NOTICE_KINDS:
        flash("Choose a notice to send.", "error")
        return back
    if "@" not in parseaddr(to)[1]:
        flash("Give the address to send the test to.", "error")
        return back
    with services.db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return back
        override = templates_dir_for(shop, services.settings)
        if language not in available_languages(override):
            flash("Choose one of the languages shown.", "error")
            return back
        rendered = render_notice(kind, sample_context(db, shop, kind), locale=language, override_dir=override)
        label = shop.label
    ref = f"test-{uuid.uuid4().hex[:12]}"
    notice = OutgoingNotice(to_address=to, to_name=None, subject=f"[Test] {rendered.subject}", text=rendered.text,
                            html=rendered.html, message_id=message_id_for(ref, services.settings.mail_from), ref=ref,
                            from_name=label)
    try:
        receipt = email_channel(smtp_url=services.settings.smtp_url, mail_from=services.settings.mail_from,
                                outbox_dir=services.settings.outbox_dir).send(notice)
    except ConnectorError as error:
        flash(f"The test could not be sent: {error}", "error")
        return back
    where = f"written to {receipt.reference}" if receipt.channel == "eml" else f"sent to {to}"
    flash(f"Test of the {KIND_LABELS[kind]} notice in {LANGUAGE_LABELS.get(language, language)} {where}.", "ok")
    return back
