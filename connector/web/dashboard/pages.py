"""Shared view plumbing: the viewer's current shop for a page, and orders looked up within what they may see."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy.orm import Session

from connector.store.models import Order, Shop
from connector.web.dashboard.access import Viewer, current_shop, require_visible


def render(template: str, **context: object) -> str:
    return render_template(f"dashboard/{template}", **context)


def shop_for_page(db: Session, who: Viewer) -> Shop | None:
    """The shop the page shows; None only for an operator with no shop installed yet."""
    return current_shop(db, who)


def visible_order(db: Session, who: Viewer, order_id: int) -> Order:
    """The order, if `who` may see its shop; 404 otherwise (another shop's order does not exist for them)."""
    order = db.get(Order, order_id)
    if order is None:
        abort(404)
    require_visible(who, order.shop_id)
    return order


def no_shop_page() -> str:
    return render("empty.html", title="No shop yet")
