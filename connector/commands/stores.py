"""`connector sync` and `connector reconcile`: pull from the stores, then decide over what is stored."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from connector.engine import Plan, plan_to_dict
from connector.errors import InputError
from connector.pipeline.outbox import reconcile_and_queue
from connector.pipeline.sync import sync_shop
from connector.services import Services
from connector.store.models import Shop
from connector.store.repo import get_shop


def parse_as_of(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError("--as-of", f"{value!r} is not a YYYY-MM-DD date") from None


def _shop_ids(services: Services, shop_ref: str | None) -> list[int]:
    with services.db.session() as session:
        if shop_ref:
            return [get_shop(session, shop_ref).id]
        return list(session.scalars(select(Shop.id).where(Shop.active.is_(True)).order_by(Shop.id)))


def plans_document(day: date, plans: list[tuple[int, Plan]]) -> dict[str, object]:
    """The `connector plan --json` shape; with several shops each order also names its shop."""
    if len(plans) == 1:
        return plan_to_dict(plans[0][1])
    orders = [{"shop_id": shop_id, **order} for shop_id, plan in plans for order in plan_to_dict(plan)["orders"]]
    return {"as_of": day.isoformat(), "orders": orders}


@click.command("sync")
@click.option("--shop", "shop_ref", default=None, help="Shop id or domain; default every active shop.")
@click.option("--full", is_flag=True, help="Read every order, not just those updated since the last sync.")
@click.pass_obj
def sync_command(services: Services, shop_ref: str | None, full: bool) -> None:
    """Pull orders and stock from the stores once."""
    for shop_id in _shop_ids(services, shop_ref):
        with services.db.session() as session:
            platform = services.platform_for(session.get(Shop, shop_id))
        try:
            if sys.stderr.isatty():
                with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} orders"),
                              TimeElapsedColumn(), transient=True) as bar:
                    task = bar.add_task(f"shop {shop_id}", total=None)
                    summary = sync_shop(services.db, shop_id, platform, full=full,
                                        progress=lambda n: bar.advance(task, n))
            else:
                summary = sync_shop(services.db, shop_id, platform, full=full)
        finally:
            platform.close()
        click.echo(summary.line())


@click.command("reconcile")
@click.option("--shop", "shop_ref", default=None, help="Shop id or domain; default every active shop.")
@click.option("--as-of", "as_of", default=None, help="Plan as of this date (YYYY-MM-DD); default today (UTC).")
@click.option("--dry-run", is_flag=True, help="Show the decisions without recording them or queueing actions.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (same shape as `connector plan --json`).")
@click.pass_obj
def reconcile_command(services: Services, shop_ref: str | None, as_of: str | None, dry_run: bool,
                      as_json: bool) -> None:
    """Decide every stored open order's backorders and ETAs, record the decisions and queue what
    must be pushed to the stores."""
    day = parse_as_of(as_of)
    outputs = []
    for shop_id in _shop_ids(services, shop_ref):
        result, queued = reconcile_and_queue(services, shop_id, as_of=day, dry_run=dry_run)
        if result is not None:
            outputs.append((shop_id, result, queued))
    if as_json:
        click.echo(json.dumps(plans_document(day, [(shop_id, result.plan) for shop_id, result, _ in outputs]), indent=2))
        return
    for shop_id, result, queued in outputs:
        backordered = sum(1 for o in result.plan.orders if o.status == "backordered")
        verb = "would change" if dry_run else "changed"
        click.echo(f"shop {shop_id}: {len(result.plan.orders)} open orders, {backordered} backordered, "
                   f"{len(result.changes)} {verb}" + ("" if dry_run else f", {queued} actions queued"))
