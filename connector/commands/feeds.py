"""`connector feeds import|list`: load supplier feeds and show what is in force."""

from __future__ import annotations

import click
from connector.commands.output import console
from rich.table import Table
from sqlalchemy import select

from connector.errors import InputError
from connector.feeds.importer import import_feed
from connector.services import Services
from connector.store.models import Supplier, utcnow
from connector.store.repo import get_shop

CANONICAL_FIELDS = ("sku", "available", "restock_date", "restock_qty", "lead_time_days")


def parse_column_map(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--map COLUMN=FIELD` pairs as {supplier column: canonical field}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or field.strip() not in CANONICAL_FIELDS:
            raise InputError("--map", f"{pair!r} is not COLUMN=FIELD with FIELD one of {', '.join(CANONICAL_FIELDS)}")
        mapping[column.strip()] = field.strip()
    return mapping


@click.group("feeds")
def feeds_group() -> None:
    """Supplier feeds: import and list."""


@feeds_group.command("import")
@click.argument("source")
@click.option("--supplier", required=True, help="Supplier name; a re-import replaces this supplier's rows.")
@click.option("--shop", "shop_ref", default=None, help="Limit the feed to one shop (id or domain); default all shops.")
@click.option("--map", "mappings", multiple=True, metavar="COLUMN=FIELD", help="Rename a supplier column.")
@click.option("--force", is_flag=True, help="Re-import even if the feed is unchanged.")
@click.pass_obj
def import_command(services: Services, source: str, supplier: str, shop_ref: str | None,
                   mappings: tuple[str, ...], force: bool) -> None:
    """Import SOURCE (a CSV or JSON file, or an http(s) URL) as SUPPLIER's feed.

    Bad rows are reported with their line numbers and skipped; a file that cannot be read at all is
    refused whole and the supplier's previous rows stay in force."""
    column_map = parse_column_map(mappings)
    with services.db.session() as session:
        shop_id = get_shop(session, shop_ref).id if shop_ref else None
        result = import_feed(session, source, supplier, shop_id=shop_id, column_map=column_map, force=force)
    for reject in result.rejected:
        click.echo(f"{source}, line {reject['line']}: {reject['reason']} (row skipped)", err=True)
    click.echo(result.line())


@feeds_group.command("list")
@click.pass_obj
def list_command(services: Services) -> None:
    """Each supplier with its row count, rejected rows and age."""
    table = Table("supplier", "scope", "rows", "rejected", "imported", "age", "source")
    now = utcnow()
    with services.db.session() as session:
        for supplier in session.scalars(select(Supplier).order_by(Supplier.scope, Supplier.name)):
            age = "never"
            if supplier.imported_at:
                hours = (now - supplier.imported_at).total_seconds() / 3600
                age = f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} d"
            table.add_row(supplier.name, supplier.scope, str(supplier.row_count), str(len(supplier.rejected or [])),
                          supplier.imported_at.strftime("%Y-%m-%d %H:%M") if supplier.imported_at else "-", age,
                          supplier.source)
    console().print(table)
