"""`connector storefront settings|push|list`: the availability ETA on each shop's product pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select

from connector.commands.output import console, print_json, when
from connector.errors import ConfigError, InputError
from connector.pipeline.storefront import (
    SETTING_ON,
    SETTING_TEXT,
    SETTING_TEXT_RANGE,
    check_template,
    push_storefront,
    refresh_variants,
    storefront_enabled,
)
from connector.services import Services
from connector.store.models import Shop, StorefrontEta


@click.group("storefront")
def storefront_group() -> None:
    """The ETA shown before the customer buys (Shopify theme block, WooCommerce plugin)."""


def _shops(services: Services, shop_id: int | None) -> list[tuple[int, str, bool]]:
    with services.db.session() as session:
        query = select(Shop).where(Shop.active.is_(True))
        if shop_id is not None:
            query = query.where(Shop.id == shop_id)
        shops = [(shop.id, shop.name or shop.domain, storefront_enabled(shop)) for shop in session.scalars(query)]
    if shop_id is not None and not shops:
        raise InputError("--shop", f"no active shop {shop_id}")
    return shops


@storefront_group.command("settings")
@click.option("--shop", "shop_id", type=int, required=True, help="The shop's id (see `connector shops list`).")
@click.option("--on/--off", "enabled", default=None, help="Show the storefront ETA on this shop (default off).")
@click.option("--text", default=None, metavar="TEMPLATE",
              help="The shop's sentence for one date, e.g. 'Back around {date:%-d %B}'; '' for the built-in one.")
@click.option("--range-text", default=None, metavar="TEMPLATE",
              help="The sentence for a range, with {earliest} and {latest}; '' for the built-in one.")
@click.pass_obj
def settings_command(services: Services, shop_id: int, enabled: bool | None, text: str | None,
                     range_text: str | None) -> None:
    """Turn the storefront ETA on or off for a shop and set its wording; prints the settings."""
    for option, template, ranged in (("--text", text, False), ("--range-text", range_text, True)):
        if template:
            try:
                check_template(template, ranged=ranged)
            except ConfigError as error:
                raise InputError(option, error.problem) from None
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise InputError("--shop", f"no shop {shop_id}")
        if enabled is not None:
            shop.set_setting(SETTING_ON, enabled)
        if text is not None:
            shop.set_setting(SETTING_TEXT, text or None)
        if range_text is not None:
            shop.set_setting(SETTING_TEXT_RANGE, range_text or None)
        on = storefront_enabled(shop)
        click.echo(f"shop {shop.id}: storefront ETA {'on' if on else 'off'}; "
                   f"text {shop.setting(SETTING_TEXT, None) or '(built-in)'!r}; "
                   f"range text {shop.setting(SETTING_TEXT_RANGE, None) or '(built-in)'!r}")


@storefront_group.command("push")
@click.option("--shop", "shop_id", type=int, default=None, help="Only this shop (default: every shop with it on).")
@click.option("--dry-run", is_flag=True, help="Recompute and show what would be written; write nothing.")
@click.pass_obj
def push_command(services: Services, shop_id: int | None, dry_run: bool) -> None:
    """Recompute every variant's availability ETA and write the changed ones to the storefront now."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    today = datetime.now(UTC).date()
    for current_id, label, enabled in _shops(services, shop_id):
        if not enabled:
            click.echo(f"shop {current_id} {label}: storefront ETA is off "
                       f"(turn it on with `connector storefront settings --shop {current_id} --on`)")
            continue
        with services.db.session() as session:
            shop = session.get(Shop, current_id)
            assert shop is not None
            found = refresh_variants(session, shop, today, services.policy)
            if dry_run:
                due = list(session.scalars(select(StorefrontEta).where(
                    StorefrontEta.shop_id == current_id, StorefrontEta.status == "pending").order_by(StorefrontEta.sku)))
                cleared = sum(1 for row in due if row.value is None)
                for row in due:
                    shown = (row.value or {}).get("eta") or "clear"
                    click.echo(f"  {row.sku}\t{row.target}\t{shown}")
                session.rollback()
                click.echo(f"shop {current_id} {label}: {len(due)} variant(s) would be written ({cleared} cleared), "
                           f"{found.unchanged} unchanged; nothing written (dry run)")
                continue
        with Progress(TextColumn(f"shop {current_id}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console(stderr=True), transient=True) as bar:
            task = bar.add_task("push", total=None)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=total)

            report = push_storefront(services, current_id, progress=advance, prepare=True)
        problems = f"; {report.failed} refused, {report.retried} to retry" if report.failed or report.retried else ""
        click.echo(f"shop {current_id} {label}: {report.written} variant(s) written ({report.cleared} cleared), "
                   f"{found.unchanged} unchanged{problems}")
        for error in report.errors[:3]:
            click.echo(f"  {error}", err=True)


@storefront_group.command("list")
@click.option("--shop", "shop_id", type=int, default=None, help="Only this shop.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_obj
def list_command(services: Services, shop_id: int | None, as_json: bool) -> None:
    """Each variant's storefront ETA as decided and as last pushed."""
    with services.db.session() as session:
        query = select(StorefrontEta).order_by(StorefrontEta.shop_id, StorefrontEta.sku)
        if shop_id is not None:
            query = query.where(StorefrontEta.shop_id == shop_id)
        rows = list(session.scalars(query))
        listed: list[dict[str, Any]] = [{"shop_id": row.shop_id, "sku": row.sku, "target": row.target, "available_now": row.available_now,
                   "eta": row.eta.isoformat() if row.eta else None, "shown": row.value,
                   "pushed": row.pushed_value, "pushed_at": when(row.pushed_at), "status": row.status,
                   "last_error": row.last_error} for row in rows]
    if as_json:
        print_json(listed)
        return
    if not listed:
        click.echo("no storefront ETA recorded yet (turn it on per shop, then reconcile or `storefront push`)")
        return
    for item in listed:
        shown = (item["shown"] or {}).get("eta") or "-"
        pushed = (item["pushed"] or {}).get("eta") or "-"
        click.echo(f"{item['shop_id']}\t{item['sku']}\tshows {shown}\tpushed {pushed} at {item['pushed_at'] or '-'}"
                   f"\t{item['status']}" + (f"\t{item['last_error']}" if item["last_error"] else ""))
