"""`connector worker [--once]`: runs the scheduled jobs, the inbox and the outbox until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from connector.pipeline.worker import run_worker
from connector.services import Services


@contextmanager
def _log_progress() -> Iterator[None]:
    """The worker says what it does (a line per batch, a heartbeat while idle) on stderr, with or without -v."""
    logger = logging.getLogger("connector.pipeline.worker")
    if logger.getEffectiveLevel() <= logging.INFO:
        yield  # -v: the root handler prints it already
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@click.command("worker")
@click.option("--once", is_flag=True, help="Process what is due now, then exit (for cron and tests).")
def worker_command(once: bool) -> None:
    """Run the worker. SIGTERM or Ctrl-C finishes the item in hand, then exits.

    Applies pending database migrations first (as `connector db upgrade` does)."""
    services: Services = click.get_current_context().obj
    services.upgrade_database()
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with _log_progress():
            stats = run_worker(services, once=once, stop_event=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(stats.line())
