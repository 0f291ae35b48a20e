"""Erasure of personal data on request: one customer's (customers/redact) or a whole shop's (shop/redact).

How it works: the connector keeps personal data in five places: the customer fields of `orders`, the
raw webhook bodies in `inbox`, error texts in `actions`, the notices as sent (`actions.rendered`,
shown to the merchant) and `.eml` notices written to the outbox folder. A customer erasure blanks
the customer fields of every order matching the customer's id, email or the orders named in the
request, replaces every inbox body that mentions that customer with a redaction marker, scrubs
action errors, drops the sent notices' text and deletes the customer's `.eml` files. Outbox payloads
never hold personal data (the executor reads the address from the order when it sends). A shop
erasure deletes the shop row, which cascades to everything keyed on it, plus its inbox rows, jobs and
`.eml` files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from connector.notify import EmlDirChannel
from connector.store.models import Action, InboxItem, Job, Order, Shop, Supplier

log = logging.getLogger(__name__)

REDACTED_BODY = b'{"redacted": true}'
REDACTED_TEXT = "[redacted]"


@dataclass(frozen=True, slots=True)
class RedactSummary:
    orders: int
    inbox_bodies: int
    eml_files: int

    def line(self) -> str:
        return f"erased the customer from {self.orders} orders, {self.inbox_bodies} deliveries, {self.eml_files} .eml files"


def _mentions(item: InboxItem, emails: set[str], customer_ids: set[str], order_ids: set[str]) -> bool:
    if item.body == REDACTED_BODY:
        return False
    text = item.body.decode("utf-8", "replace").lower()
    if any(email in text for email in emails):
        return True
    try:
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if item.topic.startswith(("orders/", "order.")) and str(data.get("id")) in order_ids:
        return True
    customer = data.get("customer")
    ids = {str(data.get("customer_id"))} | ({str(customer.get("id"))} if isinstance(customer, dict) else set())
    return bool(ids & customer_ids)


def redact_customer(
    session: Session,
    shop: Shop,
    *,
    customer_id: str | None,
    email: str | None,
    order_ids: Iterable[str] = (),
    outbox_dir: Path | None = None,
) -> RedactSummary:
    """Erase one customer's personal data held for `shop`, in the caller's transaction."""
    wanted_orders = {str(o) for o in order_ids}
    emails = {email.strip().lower()} if email and email.strip() else set()
    customer_ids = {str(customer_id)} if customer_id else set()
    conditions = []
    if customer_ids:
        conditions.append(Order.customer_id.in_(customer_ids))
    if emails:
        conditions.append(func.lower(Order.customer_email).in_(emails))
    if wanted_orders:
        conditions.append(Order.platform_id.in_(wanted_orders))
    orders = list(session.scalars(select(Order).where(Order.shop_id == shop.id, or_(*conditions)))) if conditions else []
    for order in orders:
        if order.customer_email:
            emails.add(order.customer_email.strip().lower())
        if order.customer_id:
            customer_ids.add(order.customer_id)
        wanted_orders.add(order.platform_id)
        order.customer_email = order.customer_first_name = order.customer_name = order.customer_id = None

    bodies = 0
    for item in session.scalars(select(InboxItem).where(InboxItem.of_shop(shop))).all():
        if _mentions(item, emails, customer_ids, wanted_orders):
            item.body = REDACTED_BODY
            item.headers = {k: v for k, v in (item.headers or {}).items() if "mail" not in k.lower()}
            bodies += 1

    order_row_ids = [order.id for order in orders]
    if order_row_ids:
        for action in session.scalars(select(Action).where(Action.order_id.in_(order_row_ids),
                                                           Action.rendered.is_not(None))):
            kept = action.rendered or {}
            action.rendered = {"erased": True, "language": kept.get("language"), "channel": kept.get("channel")}
    if order_row_ids and emails:
        for action in session.scalars(select(Action).where(Action.order_id.in_(order_row_ids), Action.last_error.is_not(None))):
            text = action.last_error or ""
            for address in emails:
                text = _replace_casefold(text, address)
            action.last_error = text

    files = _erase_eml(outbox_dir, emails)
    session.flush()
    summary = RedactSummary(len(orders), bodies, files)
    log.info("shop %s: %s", shop.id, summary.line())
    return summary


def _replace_casefold(text: str, needle: str) -> str:
    lowered = text.lower()
    start = lowered.find(needle)
    while start >= 0:
        text = text[:start] + REDACTED_TEXT + text[start + len(needle) :]
        lowered = text.lower()
        start = lowered.find(needle, start + len(REDACTED_TEXT))
    return text


def _erase_eml(outbox_dir: Path | None, emails: Iterable[str]) -> int:
    if outbox_dir is None or not Path(outbox_dir).is_dir():
        return 0
    channel = EmlDirChannel(Path(outbox_dir))
    return sum(channel.erase_recipient(address) for address in emails)


def erase_shop(session: Session, shop: Shop, *, outbox_dir: Path | None = None) -> None:
    """Delete everything held for `shop` (its row cascades to orders, decisions, actions, stock...)."""
    emails = {
        address.strip().lower()
        for address in session.scalars(select(Order.customer_email).where(Order.shop_id == shop.id))
        if address
    }
    _erase_eml(outbox_dir, emails)
    target = f"shop:{shop.id}"
    supplier_ids = list(session.scalars(select(Supplier.id).where(Supplier.shop_id == shop.id)))
    session.execute(delete(Job).where(Job.target == target))
    if supplier_ids:
        session.execute(delete(Job).where(Job.target.in_([f"supplier:{i}" for i in supplier_ids])))
    session.execute(delete(InboxItem).where(InboxItem.of_shop(shop)))
    shop_id = shop.id
    session.expunge(shop)
    session.execute(delete(Shop).where(Shop.id == shop_id))
    log.info("shop %s and all its data erased", shop_id)
