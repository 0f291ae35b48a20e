"""`connector demo`: the whole product on one machine, against the sandbox stores, with no account."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import click
from rich.table import Table
from sqlalchemy import func, select

from connector.commands.output import console
from sandbox.demo import DemoRun, run_demo
from connector.store.models import Action, LineDecision, Order, OrderDecision, OrderLine, Shop

TABLE_ROWS = 15


def _week(day: date | None) -> str:
    if day is None:
        return "unknown"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def print_summary(run: DemoRun, *, keep_running: bool) -> None:
    out = console()
    elapsed = time.monotonic() - run.started
    for title, detail in run.steps:
        out.print(f"[bold]{title}[/bold]: {detail}")
    for extra in run.tables:
        out.print(extra)
    with run.services.db.session() as session:
        platform_of = {shop.id: shop.platform for shop in session.scalars(select(Shop))}
        orders = Counter(platform_of[shop_id] for shop_id in session.scalars(select(Order.shop_id)))
        rows = session.execute(
            select(Order.shop_id, Order.name, Order.customer_first_name, OrderLine.sku, LineDecision.backordered,
                   LineDecision.eta, LineDecision.eta_source, OrderDecision.eta)
            .join(OrderLine, OrderLine.id == LineDecision.order_line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .join(OrderDecision, OrderDecision.order_id == Order.id)
            .where(LineDecision.backordered > 0)
            .order_by(Order.created_at, Order.id, OrderLine.id)
        ).all()
        actions = dict(
            session.execute(select(Action.kind, func.count()).where(Action.status.in_(("done", "sent")))
                            .group_by(Action.kind)).tuples().all()
        )
        notices = Counter(
            (payload.get("notice", "?"), channel or "?")
            for payload, channel in session.execute(
                select(Action.payload, Action.channel).where(Action.kind == "notify", Action.status == "sent"))
        )
    table = Table(title=f"Backordered lines (first {TABLE_ROWS} of {len(rows)})")
    for column in ("store", "order", "customer", "sku", "backordered", "line ETA", "order ETA", "how"):
        table.add_column(column)
    for shop_id, name, first_name, sku, units, eta, source, order_eta in rows[:TABLE_ROWS]:
        table.add_row(platform_of[shop_id], name, first_name or "-", sku or "-", str(units),
                      eta.isoformat() if eta else "unknown", order_eta.isoformat() if order_eta else "unknown",
                      source or "")
    out.print(table)
    weeks = Counter(_week(eta) for *_, eta, _source, _order_eta in rows)
    out.print("[bold]Summary[/bold]")
    out.print("  orders synced:     " + ", ".join(f"{platform} {count}" for platform, count in sorted(orders.items())))
    out.print(f"  backordered lines: {len(rows)}, by ETA week: "
              + ", ".join(f"{week} {count}" for week, count in sorted(weeks.items())))
    pushed = ", ".join(f"{kind} {actions.get(kind, 0)}"
                       for kind in ("tag", "marks", "note", "hold", "release", "untag", "cancel"))
    out.print(f"  pushed to stores:  {pushed}")
    out.print("  notices sent:      " + (", ".join(f"{kind} via {channel} {count}"
                                                for (kind, channel), count in sorted(notices.items())) or "none"))
    outbox = run.services.settings.outbox_dir
    out.print(f"  read them:         Shopify notices as .eml files in {outbox}/; WooCommerce sent its own "
              f"customer-note emails (recorded by the sandbox at {run.woocommerce.url}/_sandbox/emails)")
    from sandbox.demo_history import range_notices

    ranged, quoted = range_notices(run)
    out.print(f"  late suppliers:    {run.late_suppliers} of them late at p80 (the Supplier scorecard above; "
              "dashboard: Suppliers)")
    out.print(f"  range notices:     {ranged} told a range, e.g. \"{quoted}\"")
    out.print(f"  worker:            {run.worker.deliveries} webhook deliveries, {run.worker.actions} actions, "
              f"{run.worker.jobs} jobs; demo took {elapsed:.1f} s")
    if keep_running:
        out.print(f"  dashboard:         {run.services.settings.app_url}/  (log in with password 'demo'; Ctrl-C stops)")


@click.command("demo")
@click.option("--keep-running", is_flag=True, help="Leave the dashboard, the sandboxes and a worker running.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Dashboard port (default: a free one).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/demo"),
              show_default=True, help="Wiped and rebuilt on every run.")
def demo_command(keep_running: bool, port: int | None, data_dir: Path) -> None:
    """Run the whole product against the two sandbox stores: install, sync, feeds, reconcile,
    push-back, webhooks, a supplier delay and the customer notices, then print a summary. It creates
    and migrates its own database in a fresh data folder."""
    # The demo tells of the notice brake in its own summary; the brake's log warning would say it twice.
    outbox_log = logging.getLogger("connector.pipeline.outbox")
    level = outbox_log.level
    outbox_log.setLevel(logging.ERROR)
    try:
        _demo(keep_running, port, data_dir)
    finally:
        outbox_log.setLevel(level)


def _demo(keep_running: bool, port: int | None, data_dir: Path) -> None:
    run = run_demo(data_dir, port=port or (8000 if keep_running else None))
    print_summary(run, keep_running=keep_running)
    if not keep_running:
        run.stop()
        return
    from connector.pipeline.worker import run_worker

    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(run.services,), kwargs={"once": False, "stop_event": stop},
                              daemon=True)
    worker.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        stop.set()
        worker.join(timeout=10)
        run.stop()
