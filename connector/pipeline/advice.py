"""Reorder advice for a shop: reads demand history, stock, open orders and feeds, and runs the engine's advice.

One loader serves `connector stock advice`, the dashboard's Reorder page, its CSV export and the SKU
page's demand chart, so each shows the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.engine import Policy
from connector.engine.demand import WINDOW_DAYS, DemandStats, demand_stats
from connector.engine.reorder import (
    Advice,
    AdviceSettings,
    Lateness,
    SkuPosition,
    advice_order,
    advise,
    incoming_arrivals,
    reorder_supplier,
)
from connector.engine.lateness import LatenessModel
from connector.engine.supply import rows_by_sku
from connector.errors import InputError
from connector.feeds.promises import lateness_model
from connector.pipeline.history import load_sales
from connector.pipeline.reconcile import StockView, load_stock, shop_policy, supply_rows_for
from connector.platforms import kind_of
from connector.store.models import Order, OrderLine, Shop, Supplier

def advice_settings(shop: Shop, service_level: float, cover_days: int) -> AdviceSettings:
    """The service level and cover days for `shop`: its own settings over the connector's defaults."""
    return AdviceSettings(
        service_level=float(shop.setting("service_level", service_level)),
        cover_days=int(shop.setting("reorder_cover_days", cover_days)),
    )


def open_demand(session: Session, shop_id: int, view: StockView) -> dict[str, int]:
    """Unfulfilled units of the shop's open orders per stock key (shipping lines with a SKU)."""
    totals: dict[str, int] = defaultdict(int)
    rows = session.execute(
        select(OrderLine.sku, OrderLine.open_quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop_id, Order.is_open.is_(True), OrderLine.sku.is_not(None),
               OrderLine.requires_shipping.is_(True), OrderLine.open_quantity > 0)
    )
    for sku, units in rows:
        key = view.key(sku)
        if key:
            totals[key] += int(units)
    return dict(totals)


def shop_demand(session: Session, shop: Shop, as_of: date, skus: set[str] | None = None) -> dict[str, DemandStats]:
    """Demand per SKU (its own SKU, not a shared stock pool) over the window ending `as_of`."""
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    sales, history_start = load_sales(session, shop.id, since, skus=skus)
    return demand_stats(sales, as_of, history_start=history_start, skus=skus or ())


@dataclass(frozen=True, slots=True)
class ShopAdvice:
    shop_id: int
    as_of: date
    settings: AdviceSettings
    items: list[Advice]
    demand: dict[str, DemandStats]  # per stock key, for every SKU advised

    def for_sku(self, sku: str) -> Advice | None:
        return next((item for item in self.items if item.sku == sku), None)


def shop_advice(
    session: Session,
    shop: Shop,
    as_of: date,
    defaults: Policy,
    settings: AdviceSettings,
    *,
    supplier: str | None = None,
    lateness: LatenessModel | None = None,
    only: set[str] | None = None,
) -> ShopAdvice:
    """Advice for every tracked SKU that sold in the window or has open orders, likely backorders first.

    `supplier` keeps the SKUs reordered from that supplier (see `reorder_supplier`); `lateness` is the
    learned lateness model (default: the shop's own, when it learns lateness), read per supplier and
    SKU as p50/p80/p90; `only` limits the advice to those SKUs
    (the SKU page), even when they neither sold nor are waited for."""
    if supplier is not None:
        known = session.scalar(select(func.count()).select_from(Supplier).where(Supplier.name == supplier))
        if not known:
            raise InputError("--supplier", f"no supplier named {supplier!r}; `connector feeds list` shows them")
    policy = shop_policy(shop, defaults)
    if lateness is None and policy.learn_lateness:
        lateness = lateness_model(session, as_of, policy.eta_confidence, shop.id)
    view = load_stock(session, shop.id, kind_of(shop.platform).stock_rules)
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    sales, history_start = load_sales(session, shop.id, since, view)
    waiting = open_demand(session, shop.id, view)
    sold = {sale.sku for sale in sales if not sale.cancelled}
    keys = {key for key in sold | set(waiting) if key in view.units}
    if only is not None:
        keys = {key for key in (view.key(sku) for sku in only) if key and key in view.units}
    demand = demand_stats(sales, as_of, history_start=history_start, skus=keys)
    members = {sku for sku, pool in view.pool_of.items() if pool in keys}
    supply = rows_by_sku(supply_rows_for(session, shop.id, (keys - set(view.pool_of.values())) | members, view))
    items: list[Advice] = []
    for key in sorted(keys):
        rows = supply.get(key, [])
        name, lead_days = reorder_supplier(rows, policy)
        if supplier is not None and name != supplier:
            continue
        stats = demand[key]
        position = SkuPosition(
            sku=key, on_hand=view.units.get(key, 0), open_demand=waiting.get(key, 0),
            arrivals=incoming_arrivals(rows, as_of, policy, lateness), rate=stats.rate, std=stats.std,
            lead_days=lead_days, lateness=_lateness(lateness, name, key), supplier=name,
        )
        items.append(advise(position, as_of, settings))
    items.sort(key=advice_order)
    return ShopAdvice(shop.id, as_of, settings, items, demand)


def _lateness(model: LatenessModel | None, supplier: str | None, sku: str) -> Lateness | None:
    """The supplier's learned lateness for `sku` as the advice reads it; None without a figure."""
    if model is None or model.empty or supplier is None:
        return None
    figure = model.figure(supplier, sku)
    if figure is None:
        return None
    return Lateness(p50=figure.at(0.5), p80=figure.at(0.8), p90=figure.at(0.9))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def advice_to_dict(item: Advice) -> dict[str, Any]:
    """One SKU's advice as `connector stock advice --json` prints it (the CSV has the same columns)."""
    return {
        "sku": item.sku,
        "supplier": item.supplier,
        "status": item.status,
        "backorder_likely_by": _day(item.likely_on),
        "on_hand": item.on_hand,
        "incoming": item.incoming,
        "incoming_unbounded": item.incoming_unbounded,
        "open_demand": item.open_demand,
        "demand_per_day": round(item.rate, 3),
        "demand_std_per_day": round(item.std, 3),
        "lead_time_days": round(item.lead.days, 1),
        "lead_time_std_days": round(item.lead.std_days, 1),
        "safety_stock": item.safety_stock,
        "reorder_point": item.reorder_point,
        "position": item.position,
        "suggested_qty": item.suggested,
        "order_by": _day(item.order_by),
        "next_arrival": _day(item.next_arrival),
    }


ADVICE_COLUMNS = (
    "sku", "supplier", "status", "backorder_likely_by", "on_hand", "incoming", "incoming_unbounded", "open_demand",
    "demand_per_day", "demand_std_per_day", "lead_time_days", "lead_time_std_days", "safety_stock", "reorder_point",
    "position", "suggested_qty", "order_by", "next_arrival",
)
