"""Notice composition: a queued notify action's payload becomes the rendered notice and the message to send.

The outbox queues a notice as JSON (`notice_lines_to_payload`); the executor sends it, and the choice
page shows the same order later. Both rebuild what the customer reads from that payload here, so the
email and the page never disagree. The channel a shop's notices go through is chosen here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connector.errors import InputError
from connector.notify.channels import Channel, choose_channel
from connector.notify.links import choice_url, make_choice_token
from connector.notify.message import OutgoingNotice, message_id_for
from connector.notify.policy import DELAY_KINDS, NoticeLine
from connector.notify.render import NoticeContext, Refund, RenderedNotice, render_notice
from connector.platforms.base import Platform
from connector.settings import Settings
from connector.store.models import Action, Order, Shop

NotifierFactory = Callable[[Shop, Platform], Channel]


def default_notifier(settings: Settings) -> NotifierFactory:
    """The channel each shop's notices go through: store customer notes, SMTP, or .eml files."""

    def make(shop: Shop, platform: Platform) -> Channel:
        return choose_channel(
            platform,
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            outbox_dir=settings.outbox_dir,
            prefer_smtp=bool(shop.setting("prefer_smtp", False)),
        )

    return make


# --- payloads (JSON in the actions table) ---------------------------------------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _day_of(value: Any) -> date | None:
    # The order ETAs have always been read this way, which takes a date or a full timestamp.
    return datetime.fromisoformat(str(value)).date() if value else None


def notice_lines_to_payload(lines: Iterable[NoticeLine]) -> list[dict[str, Any]]:
    rows = []
    for n in lines:
        row: dict[str, Any] = {"line_id": n.line_id, "sku": n.sku, "title": n.title, "quantity": n.quantity,
                               "eta": _iso(n.eta)}
        if n.eta_earliest != n.eta or n.eta_latest != n.eta:
            row["eta_earliest"], row["eta_latest"] = _iso(n.eta_earliest), _iso(n.eta_latest)
        if n.reason:
            row["reason"] = n.reason
        if n.reason_note:
            row["reason_note"] = dict(n.reason_note)
        rows.append(row)
    return rows


def notice_lines_from_payload(rows: Sequence[dict[str, Any]]) -> list[NoticeLine]:
    return [
        NoticeLine(r["line_id"], r.get("sku"), r.get("title") or "", int(r["quantity"]), _day(r.get("eta")),
                   r.get("reason"), r.get("reason_note") or None,
                   _day(r.get("eta_earliest", r.get("eta"))), _day(r.get("eta_latest", r.get("eta"))))
        for r in rows
    ]


# --- composing --------------------------------------------------------------------------------------


def notice_ref(shop: Shop, order: Order, action: Action) -> str:
    """A notice's reference, unique across shops and orders: it names the .eml file and the Message-ID."""
    return f"{shop.id}-{order.id}-{(action.payload or {})['ref']}"


def notice_context(shop: Shop, order: Order, payload: Mapping[str, Any], *, choice_link: str | None) -> NoticeContext:
    """What a notice (or the choice page) shows for `order`, from a notify action's payload."""
    return NoticeContext(
        order_name=order.name,
        store_name=shop.label,
        lines=notice_lines_from_payload(payload.get("lines", [])),
        order_eta=_day_of(payload.get("eta")),
        order_eta_earliest=_day(payload.get("eta_earliest")),
        order_eta_latest=_day(payload.get("eta_latest")),
        customer_first_name=order.customer_first_name,
        choice_url=choice_link,
        previous_eta=_day_of(payload.get("previous_eta")),
        answer_by=_day(payload.get("answer_by")),
        ships_now=notice_lines_from_payload(payload.get("ships_now", [])),
        refund=Refund(str(payload["refund_amount"]), str(payload.get("currency") or ""),
                      _day(payload.get("refund_by")), bool(payload.get("whole_order")))
        if payload.get("refund_amount") is not None else None,
    )


def templates_dir_for(shop: Shop, settings: Settings) -> Path | None:
    """The folder of notice templates that override the shipped ones for `shop` (its own, else TEMPLATES_DIR)."""
    folder = shop.setting("templates_dir", None) or settings.templates_dir
    return Path(folder) if folder else None


def build_notice(settings: Settings, shop: Shop, order: Order, action: Action, *,
                 uses_store_note: bool) -> tuple[OutgoingNotice, RenderedNotice]:
    """The message a notify action sends and what it renders to. A delay notice carries a signed choice
    link. Without a customer email it can only go out as a store note (`uses_store_note`)."""
    payload = action.payload or {}
    kind = payload["notice"]
    ref = notice_ref(shop, order, action)
    link = None
    if kind in DELAY_KINDS:
        secret = settings.connector_secret_key or ""
        link = choice_url(settings.app_url, make_choice_token(secret, shop.id, order.id, ref))
    context = notice_context(shop, order, payload, choice_link=link)
    rendered = render_notice(kind, context, locale=order.locale, override_dir=templates_dir_for(shop, settings))
    if not order.customer_email and not uses_store_note:
        raise InputError(f"order {order.name}", "has no customer email address (never given, or erased)")
    return OutgoingNotice(
        to_address=order.customer_email or "",
        to_name=order.customer_name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id_for(ref, settings.mail_from),
        ref=ref,
        order_platform_id=order.platform_id,
        from_name=shop.label,
    ), rendered
