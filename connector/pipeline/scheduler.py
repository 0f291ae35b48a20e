"""Scheduler: the stored per-shop schedule (sync, full sync, feed refresh, reconcile) and running what is due.

How it works: every job is a row in `jobs` keyed by (kind, target), e.g. ("sync", "shop:3") or
("feed_refresh", "supplier:5"), with its interval and `next_run_at`. Because the schedule lives in
the database, a restarted worker carries on where the last one stopped. A worker claims a due job in
a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL) that moves `next_run_at` one interval on
and sets a lease (`locked_until`), commits, runs the job, and records the outcome; a worker killed
mid-job only delays that job until its lease runs out. `reconcile` runs when something marks it due
(a delivery, a sync, a feed import) and, as a safety net, every few hours.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from threading import Event

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from connector.errors import ConnectorError
from connector.pipeline.retry import describe, skip_locked
from connector.pipeline.sync import run_shop_sync
from connector.services import Services
from connector.settings import Settings
from connector.store.models import Job, Shop, Supplier, utcnow
from connector.store.repo import insert_or_ignore

log = logging.getLogger(__name__)

SYNC, FULL_SYNC, FEED_REFRESH, RECONCILE = "sync", "full_sync", "feed_refresh", "reconcile"
JOB_KINDS = (SYNC, FULL_SYNC, FEED_REFRESH, RECONCILE)
RECONCILE_SAFETY_INTERVAL = timedelta(hours=6)
LEASE = {SYNC: timedelta(hours=1), FULL_SYNC: timedelta(hours=6), FEED_REFRESH: timedelta(minutes=30),
         RECONCILE: timedelta(minutes=30)}
RETRY_AFTER_FAILURE = timedelta(minutes=5)


class SyncFailed(ConnectorError):
    """A scheduled sync failed; the message is the operator's reason and what to do."""


def shop_target(shop_id: int) -> str:
    return f"shop:{shop_id}"


def supplier_target(supplier_id: int) -> str:
    return f"supplier:{supplier_id}"


def _target_id(target: str) -> int:
    return int(target.partition(":")[2])


def _intervals(settings: Settings) -> dict[str, timedelta]:
    return {
        SYNC: timedelta(minutes=settings.sync_interval_minutes),
        FULL_SYNC: timedelta(hours=settings.full_sync_hours),
        FEED_REFRESH: timedelta(minutes=settings.feed_refresh_minutes),
        RECONCILE: RECONCILE_SAFETY_INTERVAL,
    }


def _ensure(session: Session, kind: str, target: str, interval: timedelta, first_run: datetime) -> None:
    seconds = int(interval.total_seconds())
    inserted = insert_or_ignore(
        session, Job.__table__,
        {"kind": kind, "target": target, "interval_seconds": seconds, "next_run_at": first_run},
        ("kind", "target"),
    )
    if not inserted:  # follow a changed setting without touching the stored next run
        session.execute(
            update(Job).where(Job.kind == kind, Job.target == target, Job.interval_seconds != seconds)
            .values(interval_seconds=seconds)
        )


def ensure_jobs(session: Session, shop: Shop, settings: Settings | None = None) -> None:
    """Create (idempotently) the shop's jobs and those of the URL feeds that apply to it."""
    from connector.settings import get_settings

    intervals = _intervals(settings or get_settings())
    now = utcnow()
    target = shop_target(shop.id)
    _ensure(session, SYNC, target, intervals[SYNC], now)
    # The first sync reads everything already; the daily catch-up starts a day later.
    _ensure(session, FULL_SYNC, target, intervals[FULL_SYNC], now + intervals[FULL_SYNC])
    _ensure(session, RECONCILE, target, intervals[RECONCILE], now)
    suppliers = session.scalars(
        select(Supplier).where(or_(Supplier.scope == "all", Supplier.scope == target))
    )
    for supplier in suppliers:
        if supplier.source.startswith(("http://", "https://")):
            _ensure(session, FEED_REFRESH, supplier_target(supplier.id), intervals[FEED_REFRESH], now)


def ensure_all_jobs(services: Services) -> None:
    with services.db.session() as session:
        for shop in session.scalars(select(Shop).where(Shop.active.is_(True), Shop.disabled_at.is_(None))):
            ensure_jobs(session, shop, services.settings)


def mark_due(session: Session, kind: str, target: str, *, interval: timedelta = RECONCILE_SAFETY_INTERVAL) -> None:
    """Make a job run as soon as a worker is free (creating it if needed), in the caller's transaction."""
    now = utcnow()
    inserted = insert_or_ignore(
        session, Job.__table__,
        {"kind": kind, "target": target, "interval_seconds": int(interval.total_seconds()), "next_run_at": now},
        ("kind", "target"),
    )
    if not inserted:
        # Only when not already due, so many deliveries for one shop do not queue on one row lock.
        session.execute(
            update(Job).where(Job.kind == kind, Job.target == target, Job.next_run_at > now).values(next_run_at=now)
        )


def mark_reconcile(session: Session, shop_id: int) -> None:
    mark_due(session, RECONCILE, shop_target(shop_id))


def shops_in_scope(session: Session, scope: str) -> list[int]:
    """The live shops a feed scope ("all" or "shop:<id>") applies to."""
    statement = select(Shop.id).where(Shop.active.is_(True), Shop.disabled_at.is_(None))
    if scope != "all":
        statement = statement.where(Shop.id == _target_id(scope))
    return list(session.scalars(statement))


def mark_reconcile_for_scope(session: Session, scope: str) -> None:
    """A feed of `scope` changed: reconcile every shop it applies to (the notice brake guards the result)."""
    for shop_id in shops_in_scope(session, scope):
        mark_reconcile(session, shop_id)


def remove_supplier(session: Session, scope: str, name: str) -> bool:
    """Delete a supplier with its rows, history and refresh job; False when there was none."""
    supplier = session.scalar(select(Supplier).where(Supplier.scope == scope, Supplier.name == name))
    if supplier is None:
        return False
    session.execute(delete(Job).where(Job.kind == FEED_REFRESH, Job.target == supplier_target(supplier.id)))
    session.delete(supplier)
    session.flush()
    return True



def _claim(services: Services, now: datetime, kinds: Collection[str] | None, targets: Collection[str] | None) -> Job | None:
    with services.db.session() as session:
        statement = (
            select(Job)
            .where(Job.next_run_at <= now, or_(Job.locked_until.is_(None), Job.locked_until < now))
            .order_by(Job.next_run_at, Job.id)
            .limit(1)
        )
        if kinds:
            statement = statement.where(Job.kind.in_(list(kinds)))
        if targets:
            statement = statement.where(Job.target.in_(list(targets)))
        job = session.scalar(skip_locked(session, statement))
        if job is None:
            return None
        job.locked_until = now + LEASE.get(job.kind, timedelta(hours=1))
        job.next_run_at = now + timedelta(seconds=job.interval_seconds)
        job.last_status = "running"
        return job


def _finish(services: Services, job_id: int, error: BaseException | None, status: str) -> None:
    with services.db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        now = utcnow()
        job.locked_until = None
        job.last_run_at = now
        job.last_status = "error" if error else status
        job.last_error = describe(error) if error else None
        if error is not None:
            job.next_run_at = min(job.next_run_at, now + RETRY_AFTER_FAILURE)


def run_job(services: Services, job: Job) -> str:
    """Run one job; returns its outcome word ("ok", "skipped", "unchanged", "refused", "held")."""
    if job.kind in (SYNC, FULL_SYNC):
        return _run_sync(services, _target_id(job.target), full=job.kind == FULL_SYNC)
    if job.kind == RECONCILE:
        from connector.pipeline.outbox import reconcile_and_queue

        result, _queued = reconcile_and_queue(services, _target_id(job.target), as_of=utcnow().date())
        if result is None:
            return "skipped"
        return "held" if result.held is not None else "ok"
    if job.kind == FEED_REFRESH:
        return _refresh_feed(services, _target_id(job.target))
    raise ValueError(f"unknown job kind {job.kind!r}")


def _run_sync(services: Services, shop_id: int, *, full: bool) -> str:
    """The same per-shop sync `connector sync` runs; a failure is recorded on the shop and on the job."""
    result = run_shop_sync(services, shop_id, full=full)
    if result.failed:
        raise SyncFailed(f"{result.reason}; {result.hint}")
    return result.status


def _refresh_feed(services: Services, supplier_id: int) -> str:
    """Fetch a URL feed again; a refused refresh is recorded on the supplier and triggers nothing."""
    from connector.feeds.importer import import_feed

    with services.db.session() as session:
        supplier = session.get(Supplier, supplier_id)
        if supplier is None:
            return "skipped"
        result = import_feed(
            session, supplier.source, supplier.name, shop_id=supplier.shop_id,
            column_map=dict(supplier.column_map or {}), max_shrink=services.settings.feed_max_shrink,
            default_lead_days=services.settings.default_lead_time_days, box=services.box_if_configured,
        )
        if result.status != "imported":
            return result.status  # unchanged, or refused (recorded with its reason; nothing reconciles)
        mark_reconcile_for_scope(session, supplier.scope)
    return "ok"


def run_due_jobs(
    services: Services,
    now: datetime | None = None,
    *,
    limit: int = 20,
    kinds: Collection[str] | None = None,
    targets: Collection[str] | None = None,
    stop: Event | None = None,
) -> int:
    """Run up to `limit` due jobs (optionally only some kinds or targets); returns how many ran."""
    ran = 0
    while ran < limit and not (stop is not None and stop.is_set()):
        job = _claim(services, now or utcnow(), kinds, targets)
        if job is None:
            break
        error: BaseException | None = None
        status = "ok"
        try:
            status = run_job(services, job)
        except Exception as exc:  # noqa: BLE001 - recorded on the job; it runs again later
            error = exc
            log.warning("job %s %s failed: %s", job.kind, job.target, describe(exc))
        _finish(services, job.id, error, status)
        ran += 1
    return ran


def release_stale_leases(services: Services) -> None:
    """Forget every lease: only for SQLite, where this worker is known to be the only one."""
    with services.db.session() as session:
        session.execute(update(Job).where(Job.locked_until.is_not(None)).values(locked_until=None))
