"""The worker loop: runs due jobs, drains the inbox and executes the outbox until told to stop.

How it works: each pass runs the due scheduled jobs (sync, feed refresh, reconcile), then applies
pending webhook deliveries, then executes due actions, each stage in small batches that check the
stop event between items, so SIGTERM lets the item in hand finish and then exits. When a pass finds
nothing to do the worker sleeps `WORKER_POLL_SECONDS`; with `once` it exits instead. A pass that
fails (the database restarting, say) is logged and tried again after the same pause. On PostgreSQL
any number of workers may run side by side (rows are claimed with SKIP LOCKED); on SQLite a second
worker is refused through an exclusive lock on a file next to the database, which the operating
system releases when the process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import IO

from sqlalchemy.engine import make_url

from connector.errors import ConfigError
from connector.notify.compose import NotifierFactory
from connector.pipeline.executor import run_due_actions
from connector.pipeline.storefront import run_due_pushes
from connector.pipeline.inbox import process_due_deliveries
from connector.pipeline.retry import RetryPolicy
from connector.pipeline.scheduler import ensure_all_jobs, release_stale_leases, run_due_jobs
from connector.services import Services

log = logging.getLogger(__name__)

BATCH = 50
STOREFRONT_BATCH = 500  # storefront rows per shop and pass: five Shopify calls of 25 per hundred
ENSURE_JOBS_EVERY_SECONDS = 60.0


@dataclass
class WorkerStats:
    passes: int = 0
    jobs: int = 0
    deliveries: int = 0
    actions: int = 0

    def line(self) -> str:
        return f"worker ran {self.jobs} jobs, applied {self.deliveries} deliveries, settled {self.actions} actions"


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def sqlite_lock_path(database_url: str) -> Path | None:
    """The lock file guarding a SQLite database against a second worker (None for other databases)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".worker.lock")


@contextmanager
def single_worker_guard(database_url: str) -> Iterator[bool]:
    """Hold the SQLite worker lock for the block; yields True when this is a SQLite worker.

    Raises ConfigError when another worker already holds it.
    """
    path = sqlite_lock_path(database_url)
    if path is None:
        yield False
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                "DATABASE_URL",
                f"another worker is already running on this SQLite database (lock {path}); SQLite supports "
                "one worker; use PostgreSQL to run several",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{default_worker_id()}\n")
        handle.flush()
        yield True
    finally:
        handle.close()  # closing releases the lock


def backlog(services: Services) -> tuple[int, int]:
    """(webhook deliveries waiting, store writes and notices waiting) right now."""
    from sqlalchemy import func, select

    from connector.store.models import Action, InboxItem

    with services.db.session() as session:
        inbox = session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending"))
        outbox = session.scalar(select(func.count()).select_from(Action).where(Action.status == "pending"))
    return int(inbox or 0), int(outbox or 0)


def run_pass(
    services: Services,
    *,
    worker_id: str,
    stop: Event,
    notifier: NotifierFactory | None = None,
    retry: RetryPolicy | None = None,
    stats: WorkerStats,
) -> int:
    """One round of jobs, deliveries and actions; returns how many items it handled."""
    jobs = run_due_jobs(services, limit=BATCH, stop=stop)
    deliveries = 0 if stop.is_set() else process_due_deliveries(
        services, limit=BATCH, worker_id=worker_id, retry=retry, stop=stop
    )
    actions = 0 if stop.is_set() else run_due_actions(
        services, limit=BATCH, worker_id=worker_id, notifier=notifier, retry=retry, stop=stop
    )
    actions += 0 if stop.is_set() else run_due_pushes(services, limit=STOREFRONT_BATCH, retry=retry)
    stats.passes += 1
    stats.jobs += jobs
    stats.deliveries += deliveries
    stats.actions += actions
    return jobs + deliveries + actions


def run_worker(
    services: Services,
    *,
    once: bool,
    stop_event: Event | None = None,
    worker_id: str | None = None,
    notifier: NotifierFactory | None = None,
    retry: RetryPolicy | None = None,
    schedule: bool = True,
) -> WorkerStats:
    """Work until `stop_event` is set (or, with `once`, until nothing is due); returns what was done.

    With `schedule` False the per-shop schedule is not created (tests and one-off drains).
    """
    stop = stop_event or Event()
    me = worker_id or default_worker_id()
    stats = WorkerStats()
    with single_worker_guard(services.settings.database_url) as sqlite_worker:
        if sqlite_worker:
            release_stale_leases(services)  # we are the only worker: any lease is a dead one's
        log.info("worker %s started%s", me, " (once)" if once else "")
        last_ensure = float("-inf")
        heartbeat_every = float(services.settings.worker_heartbeat_seconds)
        last_beat = time.monotonic()
        while not stop.is_set():
            if schedule and time.monotonic() - last_ensure >= ENSURE_JOBS_EVERY_SECONDS:
                ensure_all_jobs(services)
                last_ensure = time.monotonic()
            before = (stats.jobs, stats.deliveries, stats.actions)
            began = time.monotonic()
            try:
                handled = run_pass(services, worker_id=me, stop=stop, notifier=notifier, retry=retry, stats=stats)
                if handled:
                    log.info("worker %s: ran %d jobs, applied %d deliveries, settled %d actions in %.1f s", me,
                             stats.jobs - before[0], stats.deliveries - before[1], stats.actions - before[2],
                             time.monotonic() - began)
                if time.monotonic() - last_beat >= heartbeat_every:
                    inbox, outbox = backlog(services)
                    log.info("worker %s alive: %d passes so far (%s); %d deliveries and %d actions waiting", me,
                             stats.passes, stats.line().removeprefix("worker "), inbox, outbox)
                    last_beat = time.monotonic()
            except Exception:
                if once:
                    raise
                # The database restarting or a bug in one item must not end a long-running worker:
                # what was claimed is still pending (or leased) and is picked up again.
                log.exception("worker %s: pass failed; trying again shortly", me)
                stop.wait(services.settings.worker_poll_seconds)
                continue
            if handled == 0:
                if once:
                    break
                stop.wait(services.settings.worker_poll_seconds)
        log.info("worker %s stopped: %s", me, stats.line())
    return stats
