"""The demo's cancel step: one customer per store follows the link in their delay email and chooses cancel.

The customer's browser opens the choice page from the notice as it was sent, posts "cancel" with the
page's CSRF token, and the worker then refunds the backordered units in the store (the demo runs with
CANCEL_MODE=automatic) and sends the confirmation. The step reads the refund back from each sandbox
store's own API, so what it prints is what the store shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests
from sqlalchemy import select

from connector.notify.policy import DELAY_KINDS
from connector.platforms.shopify import documents as shopify_docs
from connector.store.models import Action, Cancellation, Order, OrderDecision, Shop

if TYPE_CHECKING:
    from sandbox.demo import DemoRun

LINK = re.compile(r"https?://\S+/choice/[A-Za-z0-9._~-]+")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Chooser:
    shop_id: int
    platform: str
    order_id: int
    order_name: str
    link: str


def _choosers(run: DemoRun) -> list[Chooser]:
    """Per store, the oldest backordered order whose customer got a delay email with a choice link."""
    found: dict[int, Chooser] = {}
    with run.services.db.session() as session:
        rows = session.execute(
            select(Action, Order, Shop).join(Order, Order.id == Action.order_id).join(Shop, Shop.id == Order.shop_id)
            .join(OrderDecision, OrderDecision.order_id == Order.id)
            .where(Action.kind == "notify", Action.status == "sent", OrderDecision.status == "backordered",
                   Order.is_open.is_(True))
            .order_by(Order.created_at, Action.id))
        for action, order, shop in rows:
            if shop.id in found or (action.payload or {}).get("notice") not in DELAY_KINDS:
                continue
            match = LINK.search((action.rendered or {}).get("text") or "")
            if match:
                found[shop.id] = Chooser(shop.id, shop.platform, order.id, order.name, match.group(0))
    return list(found.values())


def choose_cancel(link: str) -> None:
    """What the customer's browser does: open the page, press "cancel"."""
    with requests.Session() as browser:
        page = browser.get(link, timeout=30)
        token = CSRF.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"the choice page answered {page.status_code}")
        done = browser.post(link, data={"choice": "cancel", "csrf_token": token.group(1)}, timeout=30)
        if done.status_code != 200:
            raise RuntimeError(f"choosing cancel answered {done.status_code}")


def _store_refunds(run: DemoRun, chooser: Chooser, order_ref: str) -> list[str]:
    """The order's refunds as the store's own API lists them: "amount currency (refund id)"."""
    with run.services.db.session() as session:
        shop = session.get(Shop, chooser.shop_id)
        assert shop is not None
        platform = run.services.platform_for(shop)
    try:
        client = platform.client  # type: ignore[attr-defined]
        if chooser.platform == "shopify":
            order = client.execute(shopify_docs.ORDER_REFUNDS_QUERY, {"id": f"gid://shopify/Order/{order_ref}",
                                                                      "lineItems": 50})["order"]
            return [f"{r['totalRefundedSet']['shopMoney']['amount']} {r['totalRefundedSet']['shopMoney']['currencyCode']}"
                    f" ({r['id'].rsplit('/', 1)[-1]})" for r in order["refunds"]]
        return [f"{r['amount']} ({r['id']})" for r in client.get(f"orders/{int(order_ref)}/refunds")]
    finally:
        platform.close()


def customers_cancel(run: DemoRun) -> None:
    """One customer per store chooses cancel; the refund shows in the store and on the dashboard."""
    from sandbox.demo import DemoError, drain

    choosers = _choosers(run)
    if len(choosers) < 2:
        raise DemoError("no customer of each store got a delay email with a choice link")
    for chooser in choosers:
        choose_cancel(chooser.link)
    drain(run)
    told = []
    with run.services.db.session() as session:
        rows = {c.order_id: (c, o) for c, o in session.execute(
            select(Cancellation, Order).join(Order, Order.id == Cancellation.order_id))}
    for chooser in choosers:
        cancellation, order = rows.get(chooser.order_id, (None, None))
        if cancellation is None or order is None or cancellation.status != "done":
            state = cancellation.status if cancellation else "not requested"
            raise DemoError(f"the cancel of {chooser.order_name} is {state}: {cancellation.error if cancellation else ''}")
        refunds = _store_refunds(run, chooser, order.platform_id)
        units = ", ".join(f"{line['quantity']} × {line['title'] or line['sku']}" for line in cancellation.lines)
        told.append(f"{chooser.platform} {chooser.order_name}: {units} cancelled, {cancellation.currency} "
                    f"{cancellation.refund_amount} refunded (the store lists {'; '.join(refunds)}), "
                    f"confirmation sent, refund due by {cancellation.refund_due_by}")
    run.step("Customers cancel", "; ".join(told) + " (the dashboard's Cancellations page lists them)")
