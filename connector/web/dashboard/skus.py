"""Per-SKU pages: demand waiting, stock on hand, incoming supply by date, and backordered units per ETA week.

GET /skus                 every SKU with units waiting, and the shop's chart of units by ETA week
GET /skus/detail?sku=X    one SKU: its chart, its incoming supply events, the orders waiting for it and the
                          availability ETA its variant shows on the storefront (and when it was last pushed)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from connector.engine.supply import SupplyEvent, supply_events
from connector.pipeline.advice import advice_settings, shop_advice
from connector.pipeline.reconcile import load_supply, shop_policy
from connector.store.models import InventoryLevel, LineDecision, Order, OrderLine, Shop, utcnow
from connector.web.context import current_services
from connector.web.dashboard.access import blueprint, current_shop, no_shop_page, render, viewer
from connector.web.dashboard.chart import bar_chart, waiting_supply_chart
from connector.web.dashboard.demand_chart import demand_chart
from connector.web.dashboard.queries import units_by_week
from connector.web.dashboard.storefront import storefront_view


@dataclass(frozen=True, slots=True)
class SkuRow:
    sku: str
    waiting: int  # backordered units
    orders: int
    on_hand: int | None  # None: stock not tracked or not synced
    next_arrival: SupplyEvent | None


def _waiting_lines(shop_id: int, sku: str | None = None) -> Select[Any]:
    """(sku, eta, units, order id, order name, eta source, reason) of every backordered line of the shop's open orders."""
    statement = (
        select(OrderLine.sku, LineDecision.eta, LineDecision.backordered, Order.id, Order.name, LineDecision.eta_source,
               LineDecision.reason)
        .join(LineDecision, LineDecision.order_line_id == OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True), LineDecision.backordered > 0)
    )
    return statement.where(OrderLine.sku == sku) if sku is not None else statement


def stock_on_hand(db: Session, shop_id: int, skus: list[str]) -> dict[str, int]:
    rows = db.execute(
        select(InventoryLevel.sku, func.sum(InventoryLevel.quantity))
        .where(InventoryLevel.shop_id == shop_id, InventoryLevel.tracked.is_(True), InventoryLevel.sku.in_(skus))
        .group_by(InventoryLevel.sku)
    )
    return {sku: int(total or 0) for sku, total in rows}


def incoming(db: Session, shop: Shop, skus: list[str], today: date) -> dict[str, list[SupplyEvent]]:
    """Dated supply per SKU, as the engine sees it (arrival = promise + lead time)."""
    policy = shop_policy(shop, current_services().policy)
    return supply_events(load_supply(db, shop.id), today, policy, skus=skus)


@blueprint.get("/skus")
def skus() -> str:
    who = viewer()
    today = utcnow().date()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        lines = db.execute(_waiting_lines(shop.id)).all()
        waiting: dict[str, tuple[int, set[int]]] = {}
        for sku, _eta, units, order_id, *_rest in lines:
            total, orders = waiting.setdefault(sku or "", (0, set()))
            orders.add(order_id)
            waiting[sku or ""] = (total + units, orders)
        names = sorted(waiting)
        stock = stock_on_hand(db, shop.id, names)
        supply = incoming(db, shop, names, today)
    rows = sorted(
        (
            SkuRow(sku, units, len(orders), stock.get(sku), next(iter(supply.get(sku) or ()), None))
            for sku, (units, orders) in waiting.items()
        ),
        key=lambda row: (-row.waiting, row.sku),
    )
    chart = bar_chart(units_by_week((eta, units) for _sku, eta, units, *_ in lines))
    return render("skus.html", title="SKUs", shop=shop, rows=rows, chart=chart)


@blueprint.get("/skus/detail")
def sku_detail() -> str:
    who = viewer()
    sku = (request.args.get("sku") or "").strip()
    if not sku:
        abort(404)
    today = utcnow().date()
    with current_services().db.session() as db:
        shop = current_shop(db, who)
        if shop is None:
            return no_shop_page()
        lines = db.execute(_waiting_lines(shop.id, sku).order_by(LineDecision.eta.is_(None), LineDecision.eta)).all()
        on_hand = stock_on_hand(db, shop.id, [sku]).get(sku)
        events = incoming(db, shop, [sku], today).get(sku, [])
        services = current_services()
        settings = advice_settings(shop, services.settings.service_level, services.settings.reorder_cover_days)
        advised = shop_advice(db, shop, today, services.policy, settings, only={sku})
        storefront = storefront_view(db, shop, sku)
    supply = units_by_week((event.arrival, event.quantity or 0) for event in events)
    chart = waiting_supply_chart(units_by_week((eta, units) for _sku, eta, units, *_ in lines), supply)
    advice = advised.items[0] if advised.items else None
    demand = advised.demand.get(advice.sku) if advice else None
    demand_view = (demand_chart(demand.daily, today, advice.on_hand - advice.open_demand, advice.arrivals,
                                advice.rate) if advice and demand else None)
    return render(
        "sku.html", title=f"SKU {sku}", shop=shop, sku=sku, lines=lines, on_hand=on_hand, events=events,
        waiting=sum(units for _s, _e, units, *_ in lines), chart=chart, advice=advice, demand=demand,
        demand_chart=demand_view, storefront=storefront,
    )

