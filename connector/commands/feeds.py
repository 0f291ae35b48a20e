"""`connector feeds import|list|remove`: load supplier feeds, show what is in force, and drop a supplier."""

from __future__ import annotations

import os
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
from connector.feeds.credentials import credential_kinds
from connector.feeds.importer import import_feed, is_url
from connector.outbound.addresses import display_url
from connector.outbound.credentials import HEADER_NAME, Credentials, split_credentials
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
@click.option("--username", default=None, help="HTTP basic-auth user name for a URL feed; the password comes from "
                                                "--password-env, else a prompt that does not echo.")
@click.option("--password-env", metavar="VAR", default=None, help="Environment variable holding the basic-auth password.")
@click.option("--header-env", "header_envs", multiple=True, metavar="HEADER=VAR",
              help="Send HEADER with the value of environment variable VAR (e.g. Authorization=ACME_FEED_AUTH).")
@click.option("--query-env", "query_envs", multiple=True, metavar="NAME=VAR",
              help="Add the query value NAME from environment variable VAR (e.g. token=ACME_FEED_TOKEN).")
@click.option("--forget-credentials", is_flag=True, help="Drop the feed's stored credentials.")
@click.pass_obj
def import_command(services: Services, source: str, supplier: str, shop_ref: str | None,
                   mappings: tuple[str, ...], force: bool, allow_shrink: bool, username: str | None,
                   password_env: str | None, header_envs: tuple[str, ...], query_envs: tuple[str, ...],
                   forget_credentials: bool) -> None:
    """Import SOURCE (a CSV or JSON file, or an https URL) as SUPPLIER's feed.

    Bad rows are reported with their line numbers and skipped. A feed that cannot be read, has no
    valid row, or has lost more than FEED_MAX_SHRINK of the previous import's rows or units is
    refused whole: the supplier's previous rows stay in force and the exit status is 2.

    A URL feed's credentials (--username with --password-env, --header-env, --query-env, or written
    into the URL) are stored apart from the URL, encrypted with CONNECTOR_SECRET_KEY, used by every
    refresh of the same host and never printed. Values come from environment variables (or a prompt)
    so they stay out of the shell history."""
    column_map = parse_column_map(mappings)
    given = _given_credentials(username, password_env, header_envs, query_envs)
    if (given or forget_credentials) and not is_url(source):
        raise InputError(shown_source(source), "credentials are for URL feeds only")
    if is_url(source):
        source, embedded = split_credentials(source)
        if embedded:
            click.echo(f"note: the URL's credentials ({', '.join(embedded.kinds())}) were taken out of it and are "
                       "stored encrypted; --username/--password-env, --header-env and --query-env keep them out "
                       "of the shell history", err=True)
        given = embedded.merged(given)
    with services.db.session() as session:
        shop_id = get_shop(session, shop_ref).id if shop_ref else None
        with _progress_bar(source) as progress:
            result = import_feed(session, source, supplier, shop_id=shop_id, column_map=column_map, force=force,
                                 allow_shrink=allow_shrink, max_shrink=services.settings.feed_max_shrink,
                                 progress=progress, default_lead_days=services.settings.default_lead_time_days,
                                 credentials=given, box=services.box_if_configured,
                                 forget_credentials=forget_credentials)
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


def _from_env(option: str, variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise InputError(option, f"environment variable {variable} is not set or empty")
    return value


def _pairs(option: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """NAME=VAR options as (NAME, the value of VAR)."""
    pairs = []
    for value in values:
        name, sep, variable = value.partition("=")
        if not sep or not name.strip() or not variable.strip():
            raise InputError(option, f"{value!r} is not NAME=VARIABLE")
        pairs.append((name.strip(), _from_env(option, variable.strip())))
    return pairs


def _given_credentials(username: str | None, password_env: str | None, header_envs: tuple[str, ...],
                       query_envs: tuple[str, ...]) -> Credentials:
    """The credentials the options name, read from the environment (or, for a password, a prompt)."""
    if password_env and username is None:
        raise InputError("--password-env", "goes with --username")
    password = None
    if username is not None:
        password = _from_env("--password-env", password_env) if password_env else click.prompt(
            f"Password for feed user {username}", hide_input=True, err=True)
    headers = _pairs("--header-env", header_envs)
    for name, header in headers:
        if not HEADER_NAME.fullmatch(name) or "\r" in header or "\n" in header:
            raise InputError("--header-env", f"{name!r} is not a header that can be sent")
    return Credentials(username, password, tuple(headers), tuple(_pairs("--query-env", query_envs)))


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
    box = services.box_if_configured
    with services.db.session() as session:
        suppliers = list(session.scalars(select(Supplier).order_by(Supplier.scope, Supplier.name)))
        if as_json:
            print_json([
                {"id": s.id, "supplier": s.name, "scope": s.scope, "shop_id": s.shop_id, "source": _shown_source(s),
                 "credentials": credential_kinds(box, s),
                 "rows": s.row_count, "units": s.unit_count, "rejected": s.rejected_count or len(s.rejected or []),
                 "imported_at": when(s.imported_at), "checked_at": when(s.checked_at),
                 "refused": s.is_refused, "refused_at": when(s.refused_at), "refused_reason": s.refused_reason}
                for s in suppliers
            ])
            return
        table = Table("id", "supplier", "scope", "rows", "units", "rejected", "imported", "age", "last attempt", "source",
                      "credentials")
        for s in suppliers:
            attempt = f"REFUSED {when(s.refused_at)}: {s.refused_reason}" if s.is_refused else "ok"
            table.add_row(str(s.id), s.name, s.scope, str(s.row_count), str(s.unit_count),
                          str(s.rejected_count or len(s.rejected or [])),
                          s.imported_at.strftime("%Y-%m-%d %H:%M") if s.imported_at else "-", _age(s), attempt,
                          _shown_source(s), ", ".join(credential_kinds(box, s)) or "-")
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
