"""`connector worker [--once]`: runs the scheduled jobs, the inbox and the outbox until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from connector.pipeline.worker import run_worker
from connector.services import Services


@click.command("worker")
@click.option("--once", is_flag=True, help="Process what is due now, then exit (for cron and tests).")
def worker_command(once: bool) -> None:
    """Run the worker. SIGTERM or Ctrl-C finishes the item in hand, then exits."""
    services: Services = click.get_current_context().obj
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        stats = run_worker(services, once=once, stop_event=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(stats.line())
