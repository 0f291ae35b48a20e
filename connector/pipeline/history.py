"""Order history as demand: units per SKU per day from the stored orders, cancelled ones flagged."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.engine.demand import Sale, is_cancelled
from connector.store.models import Order, OrderLine

if TYPE_CHECKING:
    from connector.pipeline.reconcile import StockView

SKU_CHUNK = 500  # SKUs per query


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def load_sales(session: Session, shop_id: int, since: date, view: StockView | None = None,
               skus: set[str] | None = None) -> tuple[list[Sale], date | None]:
    """Units per order line ordered since `since` (only `skus` when given; SKUs as stock keys with a
    `view`; cancelled ones flagged), and the day of the shop's first synced order (where its history starts)."""
    statement = (
        select(OrderLine.sku, Order.created_at, OrderLine.quantity, Order.status)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop_id, Order.created_at >= _day_start(since), OrderLine.sku.is_not(None))
    )
    if skus is None:
        batches = [statement]
    else:
        wanted = sorted(skus)
        batches = [statement.where(OrderLine.sku.in_(wanted[start : start + SKU_CHUNK]))
                   for start in range(0, len(wanted), SKU_CHUNK)]
    sales: list[Sale] = []
    for batch in batches:
        sales.extend(
            Sale(view.key(sku) if view else sku, created.date(), int(quantity), is_cancelled(status))  # type: ignore[arg-type]
            for sku, created, quantity, status in session.execute(batch)
        )
    first = session.scalar(select(func.min(Order.created_at)).where(Order.shop_id == shop_id))
    return sales, first.date() if first is not None else None
