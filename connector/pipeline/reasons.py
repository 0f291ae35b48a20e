"""Why each line is backordered, for a shop's plan: demand surges from its order history, slips from its promises."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.engine.demand import WINDOW_DAYS, demand_stats, surging_skus
from connector.engine.reasons import apply_reasons, slipped_promises
from connector.engine.types import Plan
from connector.pipeline.history import SKU_CHUNK, load_sales
from connector.store.models import Supplier, SupplyPromise

if TYPE_CHECKING:
    from connector.pipeline.reconcile import StockView


def explain_plan(session: Session, shop_id: int, plan: Plan, as_of: date, view: StockView) -> Plan:
    """Set the reason of every backordered line of `plan` (SKUs as the engine saw them: stock keys).

    Only the SKUs with backordered lines are read: their sales over the demand window (a surge) and
    their open promises that slipped (a supplier delay)."""
    waiting = {line.sku for order in plan.orders for line in order.lines if line.backordered}
    if not waiting:
        return plan
    real = {sku for sku, pool in view.pool_of.items() if pool in waiting} | (waiting - set(view.pool_of.values()))
    sales, history_start = load_sales(session, shop_id, as_of - timedelta(days=WINDOW_DAYS - 1), view, real)
    surging = surging_skus(demand_stats(sales, as_of, history_start=history_start, skus=waiting))
    scope = or_(Supplier.scope == "all", Supplier.scope == f"shop:{shop_id}")
    skus = sorted(real)
    slipped: list[tuple[str, str, date]] = []
    for start in range(0, len(skus), SKU_CHUNK):
        rows = session.execute(
            select(Supplier.name, SupplyPromise.sku, SupplyPromise.restock_date)
            .join(Supplier, Supplier.id == SupplyPromise.supplier_id)
            .where(scope, SupplyPromise.slips > 0, SupplyPromise.status == "open",
                   SupplyPromise.sku.in_(skus[start : start + SKU_CHUNK]))
        )
        slipped.extend((name, view.key(sku) or sku, restock_date) for name, sku, restock_date in rows)
    return apply_reasons(plan, surging, slipped_promises(slipped))
