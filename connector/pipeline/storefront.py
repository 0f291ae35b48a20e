"""Storefront ETA: records each variant's availability ETA in `storefront_etas` and pushes only what changed.

How it works: reconcile (or `connector storefront push`) computes every tracked SKU's availability ETA
(`engine.variant_availability`). `record_variants` turns each into the value the storefront shows:
`{"eta": "YYYY-MM-DD"}` plus `earliest`/`latest` for a range and the shop's own `text`, or None when
there is nothing to show (in stock, or no date known: the storefront then shows nothing). Each SKU's
row is its own outbox entry: when the value's fingerprint differs from what was last pushed the row
becomes `pending`; when it changes back before the push, `done` again. A SKU whose stock comes back
is cleared the same way. `push_storefront` writes the pending rows of a shop through the platform,
`capabilities.storefront_batch_size` per request, and settles each row as soon as its batch answers:
`done` (pushed), `pending` again later (a transport failure, retried with backoff) or `failed` (the
store refused it; the reason is kept). A row without a storefront reference (the store did not say
which variant holds the SKU) is `skipped`.

Per-shop settings: `storefront_eta` (on/off, off by default), `storefront_text` (a sentence for one
date) and `storefront_text_range` (for a range), written with `str.format` fields `{date}`, `{earliest}`
and `{latest}`, each a date that takes a strftime pattern: "Back from our supplier around {date:%-d %B}".
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.engine import Policy, VariantAvailability, make_plan
from connector.errors import ConfigError, ConnectorError, Skipped
from connector.pipeline.reconcile import (
    load_orders,
    load_stock,
    load_supply,
    shop_lateness,
    shop_policy,
    storefront_availability,
)
from connector.pipeline.retry import RetryPolicy, classify, describe
from connector.platforms import kind_of
from connector.platforms.base import Platform
from connector.platforms.base import StorefrontEta as StorefrontWrite
from connector.store.models import InventoryLevel, Shop, StorefrontEta, utcnow

if TYPE_CHECKING:
    from connector.services import Services

log = logging.getLogger(__name__)

SETTING_ON = "storefront_eta"
SETTING_TEXT = "storefront_text"
SETTING_TEXT_RANGE = "storefront_text_range"
PREPARED = "storefront_prepared"  # the store has what the storefront needs (Shopify: the definition)
PUSH_CHUNK = 100  # rows written and settled together (the platform batches within a chunk)
_SAMPLE = date(2026, 3, 12)


def storefront_enabled(shop: Shop) -> bool:
    return bool(shop.setting(SETTING_ON, False))


def check_template(template: str, *, ranged: bool) -> str:
    """`template` when it formats with sample dates; ConfigError naming the problem otherwise."""
    setting = SETTING_TEXT_RANGE if ranged else SETTING_TEXT
    fields = {"date": _SAMPLE, "earliest": _SAMPLE, "latest": _SAMPLE} if ranged else {"date": _SAMPLE}
    try:
        text = template.format_map(fields)
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        allowed = "{date}, {earliest}, {latest}" if ranged else "{date}"
        raise ConfigError(setting, f"{template!r} does not format ({type(error).__name__}: {error}); "
                                   f"it may use {allowed}, e.g. {{date:%-d %B}}") from None
    if "\n" in text or len(text) > 200:
        raise ConfigError(setting, "the text must be one line of at most 200 characters")
    return template


def _text(shop: Shop, eta: date, earliest: date | None, latest: date | None) -> str | None:
    ranged = earliest is not None and latest is not None
    template = shop.setting(SETTING_TEXT_RANGE if ranged else SETTING_TEXT, None)
    if not template:
        return None
    try:
        return str(template).format_map({"date": eta, "earliest": earliest or eta, "latest": latest or eta})
    except (KeyError, IndexError, ValueError, AttributeError):
        log.warning("shop %s: its storefront text does not format; the built-in sentence is shown", shop.id)
        return None


def storefront_value(shop: Shop, variant: VariantAvailability) -> dict[str, str] | None:
    """What the storefront is to show for `variant`, or None for nothing."""
    if variant.in_stock or variant.eta is None:
        return None
    value = {"eta": variant.eta.isoformat()}
    earliest, latest = variant.eta_earliest, variant.eta_latest
    if earliest is not None and latest is not None and earliest < latest:
        value["earliest"], value["latest"] = earliest.isoformat(), latest.isoformat()
    else:
        earliest = latest = None  # no range, or one of a single day: one date
    text = _text(shop, variant.eta, earliest, latest)
    if text:
        value["text"] = text
    return value


def value_fingerprint(target: str | None, value: dict[str, str] | None) -> str:
    shown = json.dumps([target, value], sort_keys=True)
    return hashlib.sha256(shown.encode()).hexdigest()[:32]


@dataclass
class RecordReport:
    """What `record_variants` found: SKUs whose storefront value must be written (or cleared)."""

    queued: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)  # of `queued`: the value goes away (back in stock...)
    unchanged: int = 0


def record_variants(session: Session, shop: Shop, variants: Sequence[VariantAvailability],
                    pool_of: dict[str, str], *, now: datetime | None = None) -> RecordReport:
    """Store each tracked SKU's storefront value and queue the ones that differ from what was pushed.

    `variants` are per stock key; SKUs sharing a pool (`pool_of`: SKU -> key) share its value. A SKU
    that is no longer tracked, or that left the store, has nothing to show from now on.
    """
    moment = now or utcnow()
    by_key = {variant.sku: variant for variant in variants}
    targets: dict[str, str | None] = {}
    for sku, ref, tracked in session.execute(
        select(InventoryLevel.sku, InventoryLevel.storefront_ref, InventoryLevel.tracked)
        .where(InventoryLevel.shop_id == shop.id)
    ):
        if tracked or sku not in targets:
            targets[sku] = ref or targets.get(sku)
    rows = {row.sku: row for row in session.scalars(select(StorefrontEta).where(StorefrontEta.shop_id == shop.id))}
    report = RecordReport()
    for sku in sorted(set(targets) | set(rows)):
        variant = by_key.get(pool_of.get(sku, sku))
        value = storefront_value(shop, variant) if variant is not None else None
        target = targets.get(sku) or (rows[sku].target if sku in rows else None)
        fingerprint = value_fingerprint(target, value)
        row = rows.get(sku)
        if row is None:
            if value is None:
                continue  # never shown, nothing to show: no row, no write
            row = StorefrontEta(shop_id=shop.id, sku=sku, pushed_fingerprint=None, attempts=0)
            session.add(row)
        row.target = target
        row.available_now = variant.available_now if variant is not None else 0
        row.eta = variant.eta if variant is not None and not variant.in_stock else None
        row.eta_source = (variant.eta_source or None) and variant.eta_source[:300] if variant is not None else None
        changed = fingerprint != row.fingerprint
        row.value, row.fingerprint = value, fingerprint
        if fingerprint == row.pushed_fingerprint or (row.pushed_fingerprint is None and value is None):
            row.status, row.last_error = "done", None  # the store shows this already (or it changed back)
            report.unchanged += 1
            continue
        if not changed and row.status != "done":
            continue  # queued before and still waiting, retrying or refused: not queued twice
        row.decided_at, row.attempts, row.next_attempt_at = moment, 0, moment
        if target:
            row.status, row.last_error = "pending", None
        else:
            row.status, row.last_error = "skipped", "the store did not say which variant holds this SKU (sync again)"
        report.queued.append(sku)
        if value is None:
            report.cleared.append(sku)
    session.flush()
    return report


def refresh_variants(session: Session, shop: Shop, as_of: date, defaults: Policy) -> RecordReport:
    """Recompute the shop's availability ETAs from what is stored and queue the changes (orders untouched)."""
    view = load_stock(session, shop.id, kind_of(shop.platform).stock_rules)
    loaded = load_orders(session, shop.id, view)
    policy = shop_policy(shop, defaults)
    supply = load_supply(session, shop.id, view)
    lateness = shop_lateness(session, shop, as_of, policy)
    plan = make_plan(loaded.orders, view.units, supply, as_of, policy, lateness)
    variants = storefront_availability(session, shop, plan, view, supply, policy, lateness) or []
    return record_variants(session, shop, variants, view.pool_of)


@dataclass
class PushReport:
    """One shop's push: rows written, failed (refused), retried later, and requests made."""

    shop_id: int
    written: int = 0
    cleared: int = 0
    failed: int = 0
    retried: int = 0
    dry_run: bool = False
    pending: int = 0  # how many were due when the push began
    errors: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (rows settled so far, rows due)


def _due_rows(session: Session, shop_id: int, now: datetime, limit: int | None) -> list[StorefrontEta]:
    query = (select(StorefrontEta)
             .where(StorefrontEta.shop_id == shop_id, StorefrontEta.status == "pending",
                    StorefrontEta.next_attempt_at <= now)
             .order_by(StorefrontEta.sku))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def _write_of(row: StorefrontEta) -> StorefrontWrite:
    value = row.value or {}
    def day(key: str) -> date | None:
        return date.fromisoformat(value[key]) if value.get(key) else None
    return StorefrontWrite(target=str(row.target), eta=day("eta"), earliest=day("earliest"), latest=day("latest"),
                           text=value.get("text"))


def push_storefront(services: Services, shop_id: int, *, dry_run: bool = False, progress: Progress | None = None,
                    retry: RetryPolicy | None = None, now: datetime | None = None,
                    limit: int | None = None, prepare: bool = False) -> PushReport:
    """Write the shop's pending storefront values (all of them, or `limit`), settling each chunk at once.

    The store is prepared (Shopify: the metafield definition) before the first push, and again on every
    push with `prepare` (the on-demand command does, so a definition the merchant deleted comes back)."""
    moment = now or utcnow()
    policy = retry or RetryPolicy(max_attempts=services.settings.worker_max_attempts)
    report = PushReport(shop_id=shop_id, dry_run=dry_run)
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.active or shop.disabled_at is not None:
            return report
        rows = _due_rows(session, shop_id, moment, limit)
        report.pending = len(rows)
        if dry_run or not rows:
            report.written = sum(1 for row in rows if row.value is not None)
            report.cleared = len(rows) - report.written
            return report
        platform = services.platform_for(shop)
        try:
            if prepare or not shop.setting(PREPARED, False):
                platform.prepare_storefront()
                shop.set_setting(PREPARED, True)
                session.commit()
            done = 0
            for start in range(0, len(rows), PUSH_CHUNK):
                chunk = rows[start:start + PUSH_CHUNK]
                _push_chunk(platform, chunk, report, policy, moment)
                session.commit()
                done += len(chunk)
                if progress is not None:
                    progress(done, len(rows))
        except Skipped as why:  # the store does not grant the scope: nothing can be written now
            for row in rows:
                if row.status == "pending" and row.attempts == 0:
                    row.last_error = str(why)
            report.errors.append(str(why))
            session.commit()
        finally:
            platform.close()
    if report.written or report.failed:
        log.info("shop %s: storefront ETA pushed for %d variant(s) (%d cleared), %d refused, %d to retry", shop_id,
                 report.written, report.cleared, report.failed, report.retried)
    return report


def _push_chunk(platform: Platform, rows: list[StorefrontEta], report: PushReport, policy: RetryPolicy,
                now: datetime) -> None:
    by_target: dict[str, list[StorefrontEta]] = {}
    writes: list[StorefrontWrite] = []
    for row in rows:
        if str(row.target) not in by_target:
            writes.append(_write_of(row))  # SKUs sharing a pool share one write
        by_target.setdefault(str(row.target), []).append(row)
    try:
        answers = platform.write_storefront_etas(writes)
    except Skipped:
        raise
    except ConnectorError as error:  # settled per row below: retried later, or refused for good
        verdict = classify(error)
        for row in rows:
            row.attempts += 1
            later = policy.next_attempt(row.attempts, now, error) if verdict == "retry" else None
            row.last_error = describe(error)
            if later is None:
                row.status = "failed"
                report.failed += 1
            else:
                row.next_attempt_at = later
                report.retried += 1
        report.errors.append(describe(error))
        return
    for target, target_rows in by_target.items():
        refused = answers.get(target)
        for row in target_rows:
            if refused:
                row.status, row.last_error = "failed", refused[:2000]
                row.attempts += 1
                report.failed += 1
                continue
            row.status, row.last_error = "done", None
            row.pushed_fingerprint, row.pushed_value, row.pushed_at = row.fingerprint, row.value, now
            report.written += 1
            if row.value is None:
                report.cleared += 1


def shops_with_due_pushes(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(
        select(StorefrontEta.shop_id).where(StorefrontEta.status == "pending", StorefrontEta.next_attempt_at <= now)
        .distinct()
    ))


def run_due_pushes(services: Services, *, limit: int = 500, retry: RetryPolicy | None = None,
                   now: datetime | None = None) -> int:
    """The worker's share: push up to `limit` due storefront rows per shop; returns how many settled."""
    moment = now or utcnow()
    with services.db.session() as session:
        shop_ids = shops_with_due_pushes(session, moment)
    settled = 0
    for shop_id in shop_ids:
        report = push_storefront(services, shop_id, now=moment, limit=limit, retry=retry)
        settled += report.written + report.failed + report.retried
    return settled
