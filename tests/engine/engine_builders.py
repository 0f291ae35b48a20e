"""Small builders shared by the engine tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from connector.engine import Order, OrderLine

AS_OF = date(2026, 11, 26)
BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def line(line_id: str, sku: str | None, open_quantity: int, *, quantity: int | None = None,
         ships: bool = True) -> OrderLine:
    return OrderLine(line_id, sku, quantity if quantity is not None else open_quantity, open_quantity, ships)


def order(order_id: str, *lines: OrderLine, minutes: int = 0, is_open: bool = True,
          created_at: datetime | None = None) -> Order:
    created = created_at if created_at is not None else BASE_TIME + timedelta(minutes=minutes)
    return Order(order_id, f"#{order_id}", created, is_open, tuple(lines))


def days(n: int) -> date:
    return AS_OF + timedelta(days=n)
