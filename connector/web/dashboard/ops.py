"""Operations pages: deliveries and dead letters, syncs, customer choices, stuck notices, reconcile, shop switch.

GET  /deliveries                    recent and dead deliveries, last sync, waiting choices, stuck notices
POST /deliveries/<id>/replay        queue a dead (or done) delivery to run again
POST /choices/<id>/handled          the merchant has dealt with a customer's keep-waiting/cancel answer
GET  /reconcile                     dry-run preview: the orders whose decision would change (nothing written)
POST /reconcile                     run it for real and queue the resulting actions
POST /shop                          operators: switch the shop the pages show
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector.pipeline.inbox import replay
from connector.pipeline.outbox import reconcile_and_queue
from connector.store.models import (
    Action,
    CustomerChoice,
    InboxItem,
    Job,
    Order,
    Shop,
    SyncCursor,
    WebhookRefusal,
    WebhookSubscription,
    utcnow,
)
from connector.web.context import current_services
from connector.web.dashboard.access import (
    blueprint,
    choose_shop,
    current_shop,
    no_shop_page,
    render,
    Viewer,
    require_visible,
    viewer,
    visible_shops,
)
from connector.web.dashboard.auth import safe_next
from connector.web.dashboard.operations import mark_choice_handled, preview_reconcile

RECENT_DELIVERIES = 50
REPLAYABLE = ("dead", "done")


@blueprint.get("/deliveries")
def deliveries() -> str:
    who = viewer()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        scope = _deliveries_scope(who, shop)
        recent = list(db.scalars(select(InboxItem).where(scope).order_by(InboxItem.id.desc()).limit(RECENT_DELIVERIES)))
        dead = list(db.scalars(
            select(InboxItem).where(scope, InboxItem.status == "dead").order_by(InboxItem.id.desc())
        ))
        shops = visible_shops(db, who)
        shop_ids = [s.id for s in shops]
        cursors = list(db.execute(
            select(Shop.name, Shop.domain, SyncCursor)
            .join(SyncCursor, SyncCursor.shop_id == Shop.id)
            .where(Shop.id.in_(shop_ids))
            .order_by(Shop.name, SyncCursor.resource)
        ))
        jobs = list(db.scalars(select(Job).where(Job.target == f"shop:{shop.id}").order_by(Job.kind)))
        choices = list(db.execute(
            select(CustomerChoice, Order.name)
            .join(Order, Order.id == CustomerChoice.order_id)
            .where(CustomerChoice.shop_id == shop.id, CustomerChoice.handled_at.is_(None))
            .order_by(CustomerChoice.chosen_at)
        ))
        hooks = list(db.scalars(select(WebhookSubscription).where(WebhookSubscription.shop_id == shop.id)
                                .order_by(WebhookSubscription.topic)))
        stuck = list(db.execute(
            select(Action, Order.name)
            .join(Order, Order.id == Action.order_id)
            .where(Action.shop_id == shop.id, Action.kind == "notify", Action.status.in_(("sending", "stuck")))
            .order_by(Action.started_at)
        ))
        refusals, refused_count = _refusals(db, shops if who.is_operator else [shop])
    return render(
        "deliveries.html", title="Deliveries", shop=shop, recent=recent, dead=dead, cursors=cursors, jobs=jobs,
        choices=choices, stuck=stuck, replayable=REPLAYABLE, hooks=hooks, refusals=refusals,
        refused_count=refused_count,
    )


def _deliveries_scope(who: Viewer, shop: Shop) -> ColumnElement[bool]:
    """The deliveries the page lists for `shop`. A delivery belongs to a shop by its domain until the worker
    attributes it (every Shopify one arrives so); operators also see the settled ones that matched no shop
    (unknown domain, shop already removed), but not another shop's still waiting to be attributed."""
    mine = InboxItem.of_shop(shop)
    if not who.is_operator:
        return mine
    return or_(mine, InboxItem.shop_id.is_(None) & (InboxItem.status != "pending"))


def _refusals(db: Session, shops: list[Shop]) -> tuple[list[WebhookRefusal], int]:
    """The latest signed deliveries refused as stale or for another shop, and how many in the last 7 days."""
    domains = [s.domain for s in shops if s.platform == "shopify"]
    if not domains:
        return [], 0
    mine = WebhookRefusal.shop_domain.in_(domains)
    since = utcnow() - timedelta(days=7)
    count = db.scalar(select(func.count()).select_from(WebhookRefusal).where(mine, WebhookRefusal.at >= since))
    latest = list(db.scalars(select(WebhookRefusal).where(mine).order_by(WebhookRefusal.id.desc()).limit(10)))
    return latest, int(count or 0)


@blueprint.post("/deliveries/<int:item_id>/replay")
def replay_delivery(item_id: int) -> Response:
    who = viewer()
    with current_services().db.session() as db:
        if who.is_operator:
            item = db.get(InboxItem, item_id)
        else:
            # The merchant's own deliveries, by id or by domain: the same rows the page lists.
            shop = current_shop(db, who)
            item = db.scalar(select(InboxItem).where(InboxItem.id == item_id, InboxItem.of_shop(shop))) if shop else None
        if item is None:
            abort(404)  # another shop's delivery does not exist for a merchant
        if item.status not in REPLAYABLE:
            flash(f"Delivery {item_id} is {item.status}; it will run on its own.", "error")
        else:
            replay(db, delivery_id=item.id)
            flash(f"Delivery {item_id} ({item.topic}) is queued to run again.", "ok")
    return redirect(url_for("dashboard.deliveries"))


@blueprint.post("/choices/<int:choice_id>/handled")
def choice_handled(choice_id: int) -> Response:
    who = viewer()
    with current_services().db.session() as db:
        choice = db.get(CustomerChoice, choice_id)
        if choice is None:
            abort(404)
        require_visible(who, choice.shop_id)
        mark_choice_handled(db, choice)
    flash("Marked as handled.", "ok")
    if request.form.get("back") == "order":
        return redirect(url_for("dashboard.order_detail", order_id=choice.order_id))
    return redirect(url_for("dashboard.deliveries"))


@blueprint.get("/reconcile")
def reconcile_preview() -> str:
    who = viewer()
    services = current_services()
    today = utcnow().date()
    session = services.db.sessions()
    try:
        shop = current_shop(session, who)
        if shop is None:
            return no_shop_page()
        label = shop.name or shop.domain  # read now: the rollback below expires the row
        changes = preview_reconcile(session, shop, today, services.policy)
    finally:
        session.rollback()
        session.close()
    return render("reconcile.html", title="Reconcile", shop_label=label, changes=changes, as_of=today)


@blueprint.post("/reconcile")
def reconcile_run() -> Response:
    who = viewer()
    services = current_services()
    with services.db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            abort(404)
        shop_id, label = shop.id, shop.name or shop.domain
    result, queued = reconcile_and_queue(services, shop_id, as_of=utcnow().date())
    if result is not None and result.held is not None:
        flash(f"Reconciled {label}, but the notice brake held it: {(result.held.summary or {}).get('why', '')}. "
              "Nothing was queued; review it and Send or Discard.", "error")
        return redirect(url_for("dashboard.held_detail", held_id=result.held.id))
    flash(f"Reconciled {label}: {queued} action{'s' if queued != 1 else ''} queued for the store and customers.", "ok")
    return redirect(url_for("dashboard.orders"))


@blueprint.post("/shop")
def switch_shop() -> Response:
    who = viewer()
    raw = request.form.get("shop_id", "")
    if not who.is_operator or not raw.isdigit():
        abort(400, description="choose a shop from the list")
    with current_services().db.session() as db:
        if db.get(Shop, int(raw)) is None:
            abort(404)
    choose_shop(int(raw))
    return redirect(safe_next(request.form.get("back")))
