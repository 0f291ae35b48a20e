"""`connector plan`: the offline what-if — orders, stock and feed files in, backorder plan out."""

from __future__ import annotations

import gc
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from connector.engine import Order, Plan, Policy, SupplyRow, make_plan, plan_to_json, variant_availability
from connector.engine.demand import demand_stats, sales_from_orders, surging_skus
from connector.engine.lateness import LatenessModel
from connector.engine.reasons import apply_reasons
from connector.errors import ConnectorError, InputError
from connector.feeds.lateness_file import read_lateness_csv
from connector.feeds.inventory import parse_inventory_csv
from connector.feeds.parse import parse_column_map, parse_feed, to_supply
from connector.platforms import PLATFORMS, kind_of
from connector.platforms.base import PlatformName, RemoteOrder
from connector.platforms.payloads import describe_validation_error

_BOM = b"\xef\xbb\xbf"
_JSON_POSITION = re.compile(r"\s*(?:at )?line (\d+) column (\d+)")
_LEADING_SPACE = re.compile(rb"\s*")
# Past this many lines the table is written as plain columns: rich lays out every cell, which
# would take minutes for a plan of a whole store's backlog.
RICH_TABLE_LIMIT = 1000


def _array_item_line(text: str, index: int) -> int | None:
    """The file line where item `index` of a top-level JSON array starts (only on the error path)."""
    decoder = json.JSONDecoder()
    space = re.compile(r"\s*")
    try:
        position = text.index("[") + 1
        for current in range(index + 1):
            position = space.match(text, position).end()  # type: ignore[union-attr]
            if current:
                if text[position] != ",":
                    return None
                position = space.match(text, position + 1).end()  # type: ignore[union-attr]
            if current == index:
                return text.count("\n", 0, position) + 1
            _, position = decoder.raw_decode(text, position)
    except (ValueError, IndexError):
        return None
    return None


def _json_error(error: ValidationError, source: str) -> InputError | None:
    """An InputError for a JSON syntax error (pydantic reports line and column), else None."""
    first = error.errors(include_url=False)[0]
    if first["type"] != "json_invalid":
        return None
    message = str(first.get("ctx", {}).get("error", first["msg"]))
    found = _JSON_POSITION.search(message)
    detail = _JSON_POSITION.sub("", message).strip()
    if found:
        return InputError(source, f"not valid JSON: {detail} (column {found.group(2)})", int(found.group(1)))
    return InputError(source, f"not valid JSON: {message}")


def _load_payloads(path: str | Path, platform: PlatformName, planning: bool) -> list[Any]:
    """Validated order payloads from a JSON array or JSON Lines file (see `load_orders_file`)."""
    source = str(path)
    if platform not in PLATFORMS:
        raise InputError(source, f"unknown platform {platform!r}")
    files = kind_of(platform).order_files
    many, one = (files.planning_orders, files.planning_order) if planning else (files.orders, files.order)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise InputError(source, f"cannot read the file ({error.strerror or error})") from None
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    start = _LEADING_SPACE.match(raw).end()  # type: ignore[union-attr]
    if start == len(raw):
        raise InputError(source, "the file is empty")
    if raw[start:start + 1] == b"[":
        try:
            return many.validate_json(raw)
        except ValidationError as error:
            syntax = _json_error(error, source)
            if syntax is not None:
                raise syntax from None
            index = error.errors(include_url=False)[0]["loc"][0]
            if not isinstance(index, int):
                raise InputError(source, describe_validation_error(error)) from None
            line = _array_item_line(raw.decode("utf-8", "replace"), index)
            detail = describe_validation_error(error, skip=1)
            raise InputError(source, f"order {index + 1} in the array: {detail}", line) from None
    payloads: list[Any] = []
    for number, text in enumerate(raw.split(b"\n"), 1):
        if not text.strip():
            continue
        try:
            payloads.append(one.validate_json(text))
        except ValidationError as error:
            syntax = _json_error(error, source)
            if syntax is not None:
                raise InputError(source, f"{syntax.problem.rsplit(' (column', 1)[0]}; expected a JSON array "
                                         "or one order per line", number) from None
            raise InputError(source, describe_validation_error(error), number) from None
    return payloads


def load_orders_file(path: str | Path, platform: PlatformName) -> list[RemoteOrder]:
    """Orders exactly as the platform serves them, from a JSON array or JSON Lines (one order a line).

    The file is validated in one pass by pydantic's JSON parser. Errors name the file and line: for
    JSON Lines the order's line; for an array the bad order's number (1-based) and the line it starts on.
    """
    payloads = _load_payloads(path, platform, planning=False)
    convert = kind_of(platform).order_files.to_remote
    return [convert(payload) for payload in payloads]


def load_engine_orders(path: str | Path, platform: PlatformName) -> list[Order]:
    """Like `load_orders_file`, but straight to the engine's records (no customer details): the fast path."""
    payloads = _load_payloads(path, platform, planning=True)
    convert = kind_of(platform).order_files.to_engine
    return [convert(payload) for payload in payloads]


def load_feed_files(paths: tuple[str, ...], column_map: dict[str, str],
                    warn: Callable[[str], None]) -> list[SupplyRow]:
    """Supply rows from every feed file (supplier = file stem); bad rows are reported and skipped."""
    supply: list[SupplyRow] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise InputError(path, f"cannot read the file ({error.strerror or error})") from None
        parsed = parse_feed(data, path, column_map=column_map)
        for rejected in parsed.rejected:
            warn(f"warning: {path}, {rejected.where}: {rejected.reason}; row skipped")
        supplier = Path(path).stem
        supply.extend(to_supply(row, supplier) for row in parsed.rows)
    return supply


def summary_line(plan: Plan) -> str:
    """One sentence counting what the plan found."""
    backordered = [order for order in plan.orders if order.status == "backordered"]
    lines = [line for order in backordered for line in order.lines if line.backordered]
    units = sum(line.backordered for line in lines)
    unknown = sum(1 for line in lines if line.eta is None)
    return (f"{len(plan.orders)} open order(s) as of {plan.as_of.isoformat()}: {len(backordered)} backordered "
            f"({len(lines)} line(s), {units} unit(s); {unknown} line(s) with unknown ETA), "
            f"{len(plan.orders) - len(backordered)} ok")


_COLUMNS = ("Order", "Line", "SKU", "Ordered", "Allocated", "Backordered", "ETA", "Source", "Reason")


def _rows(plan: Plan) -> list[tuple[str, ...]]:
    return [
        (order.order_name, line.line_id, line.sku, str(line.ordered), str(line.allocated), str(line.backordered),
         line.eta.isoformat() if line.eta else ("-" if not line.backordered else "unknown"), line.eta_source or "",
         line.reason or "")
        for order in plan.orders for line in order.lines
    ]


def print_table(plan: Plan) -> None:
    """The readable plan: one row per line, then the summary."""
    rows = _rows(plan)
    if len(rows) <= RICH_TABLE_LIMIT:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"Backorder plan as of {plan.as_of.isoformat()}")
        for index, column in enumerate(_COLUMNS):
            table.add_column(column, justify="right" if 3 <= index <= 5 else "left")
        for row in rows:
            style = "red" if row[6] == "unknown" else ("yellow" if row[5] != "0" else None)
            table.add_row(*(Text(cell) for cell in row), style=style)  # Text: a "[" in a SKU is not markup
        console = Console()
        if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
            console = Console(width=160)
        console.print(table)
    else:
        widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(_COLUMNS)]
        out = sys.stdout
        out.write("  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)).rstrip() + "\n")
        for row in rows:
            out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    click.echo(summary_line(plan))


def _parse_as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@click.command("plan")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True,
              help="Which platform's order JSON --orders holds.")
@click.option("--orders", "orders_path", type=click.Path(dir_okay=False), required=True,
              help="Orders as the platform serves them: a JSON array or JSON Lines.")
@click.option("--inventory", "inventory_path", type=click.Path(dir_okay=False), required=True,
              help="CSV with columns sku,on_hand (allocatable units).")
@click.option("--feed", "feed_paths", type=click.Path(dir_okay=False), multiple=True,
              help="Supplier feed (CSV or JSON); repeat for several. The supplier is the file name.")
@click.option("--map", "--feed-map", "feed_map", multiple=True, metavar="COLUMN=FIELD",
              help="Rename a feed column to sku, available, restock_date, restock_qty or lead_time_days.")
@click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD", help="Plan date (default: today, UTC).")
@click.option("--handling-days", type=click.IntRange(min=0), default=1, show_default=True,
              help="Days from stock arriving to the order shipping.")
@click.option("--default-lead-days", type=click.IntRange(min=0), default=7, show_default=True,
              help="Supplier lead time for feed rows that give none.")
@click.option("--lateness", "lateness_path", type=click.Path(dir_okay=False), default=None,
              help="A lateness model (the CSV of `connector suppliers lateness --csv`) to date promises with.")
@click.option("--eta-confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.8,
              show_default=True, help="The quantile of learned lateness an ETA is dated at (with --lateness).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (the documented contract).")
@click.pass_context
def plan_command(ctx: click.Context, platform: PlatformName, orders_path: str, inventory_path: str,
                 feed_paths: tuple[str, ...], feed_map: tuple[str, ...], as_of: date, handling_days: int,
                 default_lead_days: int, lateness_path: str | None, eta_confidence: float, as_json: bool) -> None:
    """Show which open order lines are backordered and when they can ship, from files only
    (no database, no network)."""
    # Everything built here lives until the command ends and holds no cycles; the cyclic collector
    # would only rescan the growing heap again and again (it roughly doubles the run time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        lateness = read_lateness_csv(lateness_path) if lateness_path else None
        _plan(platform, orders_path, inventory_path, feed_paths, feed_map, as_of,
              Policy(handling_days, default_lead_days, eta_confidence), as_json, lateness)
    except ConnectorError as error:
        click.echo(f"error: {error}", err=True)
        ctx.exit(error.exit_code)
    finally:
        if collecting:
            gc.enable()


def _plan(platform: PlatformName, orders_path: str, inventory_path: str, feed_paths: tuple[str, ...],
          feed_map: tuple[str, ...], as_of: date, policy: Policy, as_json: bool,
          lateness: LatenessModel | None = None) -> None:
    column_map = parse_column_map(feed_map)
    stock = parse_inventory_csv(inventory_path)
    supply = load_feed_files(feed_paths, column_map, lambda message: click.echo(message, err=True))
    orders = load_engine_orders(orders_path, platform)
    plan = make_plan(orders, stock, supply, as_of, policy, lateness)
    sales, history_start = sales_from_orders(orders)
    waiting = {line.sku for order in plan.orders for line in order.lines if line.backordered}
    apply_reasons(plan, surging_skus(demand_stats((sale for sale in sales if sale.sku in waiting), as_of,
                                                  history_start=history_start)))
    if as_json:
        click.echo(plan_to_json(plan, variant_availability(plan, stock, supply, policy, lateness=lateness)))
    else:
        print_table(plan)
