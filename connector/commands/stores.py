"""`connector sync` and `connector reconcile`: pull from the stores, then decide over what is stored."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from connector.commands.output import console
from connector.engine import Plan, plan_to_dict
from connector.errors import ConnectorError, InputError
from connector.pipeline.outbox import reconcile_and_queue
from connector.pipeline.sync import ShopSyncResult, run_shop_sync
from connector.services import Services
from connector.store.models import Shop
from connector.store.repo import get_shop


class SomeShopsFailed(ConnectorError):
    """At least one shop's sync failed (each is reported on its own line)."""


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
        return list(session.scalars(
            select(Shop.id).where(Shop.active.is_(True), Shop.disabled_at.is_(None)).order_by(Shop.id)))


def plans_document(day: date, plans: list[tuple[int, Plan]]) -> dict[str, object]:
    """The `connector plan --json` shape; with several shops each order also names its shop."""
    if len(plans) == 1:
        return plan_to_dict(plans[0][1])
    orders = [{"shop_id": shop_id, **order} for shop_id, plan in plans for order in plan_to_dict(plan)["orders"]]
    return {"as_of": day.isoformat(), "orders": orders}


@contextmanager
def _store_retries_quiet() -> Iterator[None]:
    """Without -v, the clients' retry warnings (API operation names and all) stay out of the way: each
    shop's result line says what happened in the operator's words."""
    if logging.getLogger().getEffectiveLevel() <= logging.INFO:
        yield
        return
    noisy = [logging.getLogger(name) for name in ("connector.platforms", "connector.pipeline.sync",
                                                  "connector.pipeline.webhook_setup")]
    levels = [logger.level for logger in noisy]
    for logger in noisy:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(noisy, levels, strict=True):
            logger.setLevel(level)


def _sync_one(services: Services, shop_id: int, full: bool) -> ShopSyncResult:
    if not sys.stderr.isatty():
        return run_shop_sync(services, shop_id, full=full)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} orders"),
                  TimeElapsedColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"shop {shop_id}", total=None)
        return run_shop_sync(services, shop_id, full=full, progress=lambda n: bar.advance(task, n))


@click.command("sync")
@click.option("--shop", "shop_ref", default=None, help="Shop id or domain; default every active shop.")
@click.option("--full", is_flag=True, help="Read every order, not just those updated since the last sync.")
@click.pass_obj
def sync_command(services: Services, shop_ref: str | None, full: bool) -> None:
    """Pull orders and stock from the stores once.

    Each shop is synced on its own and reported on its own line; one that fails never stops the
    others. The exit status is 1 when any shop failed."""
    shop_ids = _shop_ids(services, shop_ref)
    if not shop_ids:
        click.echo("no shops to sync; `connector shops add ...` adds one")
        return
    failed = []
    with _store_retries_quiet():
        for shop_id in shop_ids:
            result = _sync_one(services, shop_id, full)
            click.echo(result.line())
            if result.failed:
                failed.append(result)
    if failed:
        raise SomeShopsFailed(f"{len(failed)} of {len(shop_ids)} shops failed to sync: "
                              + ", ".join(f"shop {result.shop_id}" for result in failed))


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
        line = f"shop {shop_id}: {len(result.plan.orders)} open orders, {backordered} backordered, {len(result.changes)} {verb}"
        if result.held is not None:
            line += (f"; HELD by the notice brake ({result.held.status}, held reconcile {result.held.id}): "
                     f"{(result.held.summary or {}).get('why', '')}. Nothing was queued: review it on the dashboard, or "
                     f"`connector held send {result.held.id}` / `connector held discard {result.held.id}`")
        elif not dry_run:
            line += f", {queued} actions queued"
        click.echo(line)
