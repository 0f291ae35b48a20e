"""Polling sync: the one orchestration of a shop's sync (CLI and scheduler alike) and the read it runs.

`run_shop_sync` is what `connector sync` and the worker's scheduled jobs call for each shop: it
skips a shop that is paused or uninstalled, reads the store's own name on a first or full sync,
pulls orders and stock (`sync_shop`), puts the webhooks back, marks a reconcile due and records the
shop's health. It never raises for a store that fails: the result says why in the operator's words,
so one dead store never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from connector.errors import Skipped
from connector.pipeline.health import explain, record_sync
from connector.platforms.base import Platform
from connector.store.db import Database
from connector.store.models import Shop, utcnow
from connector.feeds.promises import infer_arrivals as infer_from_stock
from connector.store.repo import (
    get_cursor,
    mark_out_of_reach,
    record_access,
    set_cursor,
    stock_totals,
    store_stock,
    upsert_order,
)

if TYPE_CHECKING:
    from connector.services import Services

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
        return f"shop {self.shop_id}: {self.what()}; cursor {cursor}"

    def what(self) -> str:
        kind = "full" if self.full else "incremental"
        text = (f"{kind} sync read {self.orders_seen} orders ({self.orders_stored} new or changed) and "
                f"{self.stock_records} stock records")
        if self.out_of_reach:
            text += f"; {self.out_of_reach} older orders now out of the store's reach"
        if self.missing_scopes:
            text += f"; scopes not granted: {', '.join(self.missing_scopes)}"
        return text


def sync_shop(
    db: Database, shop_id: int, platform: Platform, *, full: bool = False, progress: Progress | None = None,
    infer_arrivals: bool = True, today: date | None = None,
) -> SyncSummary:
    """Sync one shop's orders then stock; returns what was read.

    With `infer_arrivals`, a SKU whose stock rose since the last read settles the promises of it that
    are due (see `connector.feeds.promises.infer_arrivals`), as received on `today` (default: UTC today).

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
            before = stock_totals(session, shop_id) if infer_arrivals else {}
            stock_count = store_stock(session, shop_id, platform.iter_stock(), complete=True)
            if infer_arrivals:
                after = stock_totals(session, shop_id)
                rises = {sku: (before[sku], units) for sku, units in after.items()
                         if sku in before and units > before[sku]}
                if rises:
                    infer_from_stock(session, shop_id, rises, today or utcnow().date())
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


# --- one shop's sync, as the CLI and the scheduler run it ------------------------------------------

PROFILE_CHECKED = "profile_checked_at"  # shop setting: when the store's own name was last read
DISPLAY_NAME = "display_name"  # shop setting: a name the operator chose, never overwritten by the store's


@dataclass(frozen=True, slots=True)
class ShopSyncResult:
    """The outcome of one shop's sync, as one line for the operator."""

    shop_id: int
    label: str
    status: Literal["ok", "failed", "skipped"]
    summary: SyncSummary | None = None
    reason: str | None = None
    hint: str | None = None
    last_good: datetime | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        who = f"shop {self.shop_id} {self.label}"
        if self.status == "ok":
            assert self.summary is not None
            return f"{who}: ok, {self.summary.what()} in {self.seconds:.1f} s"
        if self.status == "skipped":
            return f"{who}: skipped, {self.reason}"
        good = self.last_good.strftime("%Y-%m-%d %H:%M UTC") if self.last_good else "never"
        return f"{who}: FAILED after {self.seconds:.1f} s, {self.reason}. Last good sync: {good}. {self.hint}"


def shop_label(shop: Shop) -> str:
    """"Demo Outfitters (shopify, demo.myshopify.com)": how result lines name a shop."""
    if shop.name and shop.name != shop.domain:
        return f"{shop.name} ({shop.platform}, {shop.domain})"
    return f"{shop.domain} ({shop.platform})"


def refresh_profile(services: Services, shop_id: int, platform: Platform) -> None:
    """Read the store's own name (one cheap call that also proves the credentials) and keep it as the
    shop's display name, unless the operator chose one."""
    profile = platform.shop_profile()
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return
        if profile.name and not shop.setting(DISPLAY_NAME, None):
            shop.name = profile.name[:255]
        shop.set_setting(PROFILE_CHECKED, utcnow().isoformat())


def run_shop_sync(services: Services, shop_id: int, *, full: bool = False,
                  progress: Progress | None = None) -> ShopSyncResult:
    """Sync one shop (see the module docstring); never raises because the store failed."""
    from connector.pipeline.scheduler import mark_reconcile
    from connector.pipeline.webhook_setup import ensure_shop_webhooks

    started = time.monotonic()
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return ShopSyncResult(shop_id, "(removed)", "skipped", reason="no such shop")
        label = shop_label(shop)
        if not shop.active:
            return ShopSyncResult(shop_id, label, "skipped", reason="the app was uninstalled from this store")
        if shop.disabled_at is not None:
            return ShopSyncResult(shop_id, label, "skipped", reason=f"disabled by the operator "
                                  f"({shop.disabled_at:%Y-%m-%d %H:%M} UTC); `connector shops enable {shop_id}` resumes it")
        last_good = shop.sync_ok_at
        check_profile = full or not shop.setting(PROFILE_CHECKED, None)
    try:
        platform = services.platform_for(shop)
        try:
            if check_profile:
                refresh_profile(services, shop_id, platform)
            summary = sync_shop(services.db, shop_id, platform, full=full, progress=progress,
                                infer_arrivals=services.settings.infer_arrivals)
        finally:
            platform.close()
    except Exception as error:  # noqa: BLE001 - any failure of this shop is reported, never fatal to the others
        explanation = explain(error, shop_id)
        with services.db.session() as session:
            record_sync(session, shop_id, ok=False, explanation=explanation)
        log.warning("shop %s: sync failed: %s (%s: %s)", shop_id, explanation.reason, type(error).__name__, error)
        return ShopSyncResult(shop_id, label, "failed", reason=explanation.reason, hint=explanation.hint,
                              last_good=last_good, seconds=time.monotonic() - started)
    # Stores drop or disable webhooks after failed deliveries; every sync puts them back.
    ensure_shop_webhooks(services, shop_id)
    with services.db.session() as session:
        record_sync(session, shop_id, ok=True)
        mark_reconcile(session, shop_id)
        refreshed = session.get(Shop, shop_id)
        label = shop_label(refreshed) if refreshed is not None else label
    return ShopSyncResult(shop_id, label, "ok", summary=summary, last_good=utcnow(),
                          seconds=time.monotonic() - started)
