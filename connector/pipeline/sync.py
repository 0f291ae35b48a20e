"""Polling sync: pulls orders updated since the stored cursor and the store's stock, whatever the platform."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.errors import Skipped
from connector.platforms.base import Platform
from connector.store.db import Database
from connector.store.repo import get_cursor, mark_out_of_reach, record_access, set_cursor, store_stock, upsert_order
from connector.store.models import utcnow

log = logging.getLogger(__name__)

ORDERS = "orders"
# Each run re-reads a few minutes before the last cursor: a store's clock and indexing lag behind.
OVERLAP = timedelta(minutes=5)
COMMIT_EVERY = 200

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class SyncSummary:
    shop_id: int
    orders_seen: int
    orders_stored: int
    stock_records: int
    cursor: datetime | None
    full: bool
    out_of_reach: int = 0
    missing_scopes: tuple[str, ...] = ()

    def line(self) -> str:
        cursor = self.cursor.isoformat() if self.cursor else "none"
        kind = "full" if self.full else "incremental"
        text = (
            f"shop {self.shop_id}: {kind} sync read {self.orders_seen} orders "
            f"({self.orders_stored} new or changed), {self.stock_records} stock records; cursor {cursor}"
        )
        if self.out_of_reach:
            text += f"; {self.out_of_reach} older orders now out of the store's reach"
        if self.missing_scopes:
            text += f"; scopes not granted: {', '.join(self.missing_scopes)}"
        return text


def sync_shop(
    db: Database, shop_id: int, platform: Platform, *, full: bool = False, progress: Progress | None = None
) -> SyncSummary:
    """Sync one shop's orders then stock; returns what was read.

    The stored cursor becomes min(sync start, newest `updated_at` seen), so an order updated while
    the run was paging is read again next time instead of being skipped.
    """
    started = utcnow()
    access = platform.check_access()  # granted scopes are checked on every sync, never assumed
    with db.session() as session:
        record_access(session, shop_id, access)
        cursor = None if full else get_cursor(session, shop_id, ORDERS)
    since = cursor - OVERLAP if cursor else None

    seen = stored = 0
    newest: datetime | None = None
    with db.session() as session:
        remotes = platform.iter_all_orders() if since is None else platform.iter_orders(since)
        for remote in remotes:
            seen += 1
            if upsert_order(session, shop_id, remote):
                stored += 1
            if newest is None or remote.updated_at > newest:
                newest = remote.updated_at
            if seen % COMMIT_EVERY == 0:
                session.commit()
                session.expunge_all()  # a long sync must not keep every order it has stored in memory
            if progress:
                progress(1)
        # Orders the store no longer shows (its 60-day window) are kept, marked out of reach.
        out_of_reach = mark_out_of_reach(session, shop_id, access.readable_since) if access.readable_since else 0

    try:
        with db.session() as session:
            stock_count = store_stock(session, shop_id, platform.iter_stock(), complete=True)
    except Skipped as why:
        log.warning("shop %s: stock not read (%s); the last stock read is kept", shop_id, why)
        stock_count = 0

    candidates = [c for c in (cursor, min(started, newest) if newest else None) if c is not None]
    new_cursor = max(candidates) if candidates else started
    with db.session() as session:
        set_cursor(session, shop_id, ORDERS, new_cursor, seen)
    summary = SyncSummary(shop_id, seen, stored, stock_count, new_cursor, full, out_of_reach, access.missing)
    log.info(summary.line())
    return summary
