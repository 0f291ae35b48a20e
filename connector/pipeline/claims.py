"""Outbox claims: which orders with due actions a worker takes next, locked so no other worker writes them.

Work is claimed per ORDER, never per row, so two workers never write the same order at once. On
PostgreSQL a worker locks a group of one shop's orders that have due actions with
`FOR NO KEY UPDATE SKIP LOCKED`, on a connection of its own held open while it works (the results are
committed on other sessions). SQLite runs a single worker and needs no lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from connector.pipeline.retry import is_postgres, skip_locked
from connector.store.db import Database
from connector.store.models import Action, Order, Shop

CLAIM_GROUP = 25


@dataclass
class Claim:
    shop_id: int
    order_ids: list[int]
    lock: Session | None  # PostgreSQL: holds the order locks until released

    def release(self) -> None:
        if self.lock is not None:
            self.lock.rollback()
            self.lock.close()


def due(now: datetime) -> ColumnElement[bool]:
    # A shop the operator paused keeps its actions pending until it is enabled again.
    paused = select(Shop.id).where(Shop.disabled_at.is_not(None))
    return (Action.status == "pending") & (Action.next_attempt_at <= now) & Action.shop_id.not_in(paused)


def claim_orders(db: Database, now: datetime, group: int) -> Claim | None:
    """Lock up to `group` orders of one shop that have due actions; None when there are none free."""
    lock = db.sessions()
    try:
        shop_ids = lock.scalars(select(Action.shop_id).where(due(now)).distinct().limit(50)).all()
        for shop_id in shop_ids:
            statement = (
                select(Order.id)
                .where(Order.shop_id == shop_id, Order.id.in_(select(Action.order_id).where(due(now))))
                .order_by(Order.id)
                .limit(group)
            )
            order_ids = list(lock.scalars(skip_locked(lock, statement, no_key=True)).all())
            if order_ids:
                if is_postgres(lock):
                    return Claim(shop_id, order_ids, lock)
                lock.close()
                return Claim(shop_id, order_ids, None)
    except BaseException:
        lock.rollback()
        lock.close()
        raise
    lock.rollback()
    lock.close()
    return None
