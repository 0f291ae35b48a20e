"""`connector feeds import|list|remove`: load supplier feeds, show what is in force, and drop a supplier."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from connector.commands.output import confirm, console, print_json, when
from connector.errors import InputError
from connector.feeds.importer import Progress as ImportProgress
from connector.feeds.importer import import_feed, is_url
from connector.outbound.addresses import display_url
from connector.feeds.parse import parse_column_map
from connector.pipeline.scheduler import mark_reconcile_for_scope, remove_supplier
from connector.services import Services
from connector.store.models import Supplier, utcnow
from connector.store.repo import get_shop


@contextmanager
def _progress_bar(source: str) -> Iterator[ImportProgress | None]:
    """A byte progress bar on a terminal (stderr); nothing in a pipe or a log."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"importing {shown_source(source)}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield advance


@click.group("feeds")
def feeds_group() -> None:
    """Supplier feeds: import, list and remove."""


@feeds_group.command("import")
@click.argument("source")
@click.option("--supplier", required=True, help="Supplier name; a re-import replaces this supplier's rows.")
@click.option("--shop", "shop_ref", default=None, help="Limit the feed to one shop (id or domain); default all shops.")
@click.option("--map", "mappings", multiple=True, metavar="COLUMN=FIELD", help="Rename a supplier column.")
@click.option("--force", is_flag=True, help="Re-import even if the feed is unchanged.")
@click.option("--allow-shrink", is_flag=True,
              help="Accept a feed with far fewer rows or units than the previous import (FEED_MAX_SHRINK).")
@click.pass_obj
def import_command(services: Services, source: str, supplier: str, shop_ref: str | None,
                   mappings: tuple[str, ...], force: bool, allow_shrink: bool) -> None:
    """Import SOURCE (a CSV or JSON file, or an http(s) URL) as SUPPLIER's feed.

    Bad rows are reported with their line numbers and skipped. A feed that cannot be read, has no
    valid row, or has lost more than FEED_MAX_SHRINK of the previous import's rows or units is
    refused whole: the supplier's previous rows stay in force and the exit status is 2."""
    column_map = parse_column_map(mappings)
    with services.db.session() as session:
        shop_id = get_shop(session, shop_ref).id if shop_ref else None
        with _progress_bar(source) as progress:
            result = import_feed(session, source, supplier, shop_id=shop_id, column_map=column_map, force=force,
                                 allow_shrink=allow_shrink, max_shrink=services.settings.feed_max_shrink,
                                 progress=progress, default_lead_days=services.settings.default_lead_time_days)
        if result.status == "imported":
            mark_reconcile_for_scope(session, "all" if shop_id is None else f"shop:{shop_id}")
    # Committed first: a refusal is recorded (and shown on the dashboard) before the command fails.
    if result.refused:
        raise InputError(shown_source(source), f"refused whole: {result.reason}; {supplier}'s previous {result.rows} rows stay "
                                 "in force")
    for reject in result.rejected:
        click.echo(f"{shown_source(source)}, line {reject['line']}: {reject['reason']} (row skipped)", err=True)
    if result.rejected_count > len(result.rejected):
        click.echo(f"{shown_source(source)}: ... and {result.rejected_count - len(result.rejected)} more rows skipped", err=True)
    click.echo(result.line())


def _age(supplier: Supplier) -> str:
    if not supplier.imported_at:
        return "never"
    hours = (utcnow() - supplier.imported_at).total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} d"


def shown_source(source: str) -> str:
    """A feed's source as printed: a URL without its user name, password or query values."""
    return display_url(source) if is_url(source) else source


def _shown_source(supplier: Supplier) -> str:
    """The feed's source as listed (the one place that decides what of it is shown)."""
    return shown_source(supplier.source)


@feeds_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_obj
def list_command(services: Services, as_json: bool) -> None:
    """Each supplier with its rows and units in force, rejected rows, age and the last refusal."""
    with services.db.session() as session:
        suppliers = list(session.scalars(select(Supplier).order_by(Supplier.scope, Supplier.name)))
        if as_json:
            print_json([
                {"id": s.id, "supplier": s.name, "scope": s.scope, "shop_id": s.shop_id, "source": _shown_source(s),
                 "rows": s.row_count, "units": s.unit_count, "rejected": s.rejected_count or len(s.rejected or []),
                 "imported_at": when(s.imported_at), "checked_at": when(s.checked_at),
                 "refused": s.is_refused, "refused_at": when(s.refused_at), "refused_reason": s.refused_reason}
                for s in suppliers
            ])
            return
        table = Table("id", "supplier", "scope", "rows", "units", "rejected", "imported", "age", "last attempt", "source")
        for s in suppliers:
            attempt = f"REFUSED {when(s.refused_at)}: {s.refused_reason}" if s.is_refused else "ok"
            table.add_row(str(s.id), s.name, s.scope, str(s.row_count), str(s.unit_count),
                          str(s.rejected_count or len(s.rejected or [])),
                          s.imported_at.strftime("%Y-%m-%d %H:%M") if s.imported_at else "-", _age(s), attempt,
                          _shown_source(s))
    if not suppliers:
        click.echo("no supplier feeds yet; `connector feeds import FILE --supplier NAME` adds one")
        return
    console().print(table)


@feeds_group.command("remove")
@click.argument("supplier")
@click.option("--shop", "shop_ref", default=None, help="The shop the feed is limited to (id or domain); default the "
                                                         "feed for every shop.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def remove_command(services: Services, supplier: str, shop_ref: str | None, yes: bool) -> None:
    """Remove SUPPLIER's feed and its rows; the next reconcile recomputes the ETAs without it."""
    with services.db.session() as session:
        scope = f"shop:{get_shop(session, shop_ref).id}" if shop_ref else "all"
        found = session.scalar(select(Supplier).where(Supplier.scope == scope, Supplier.name == supplier))
        if found is None:
            raise InputError(f"supplier {supplier!r}", f"no feed for {scope}; `connector feeds list` shows them")
        rows = found.row_count
    confirm(f"Remove supplier {supplier} ({scope}, {rows} rows)? ETAs are recomputed without its rows "
            "at the next reconcile", yes)
    with services.db.session() as session:
        removed = remove_supplier(session, scope, supplier)
        if removed:
            mark_reconcile_for_scope(session, scope)
    click.echo(f"removed supplier {supplier} ({scope}, {rows} rows)")
