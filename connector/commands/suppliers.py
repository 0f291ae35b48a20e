"""`connector suppliers list|lateness`, `connector supplies receive` and `connector report`: scorecards, arrivals, promises kept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from rich.table import Table

from connector.commands.output import console, print_json
from connector.errors import InputError
from connector.feeds.lateness_file import lateness_csv
from connector.feeds.promises import receive
from connector.feeds.receipts import parse_receipts
from connector.pipeline.outcomes import outcomes_report
from connector.pipeline.scheduler import mark_reconcile_for_scope
from connector.pipeline.suppliers import scorecards
from connector.services import Services


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@click.group("suppliers")
def suppliers_group() -> None:
    """Supplier scorecards and the learned lateness model."""


@suppliers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the scorecards as JSON.")
@click.pass_obj
def list_command(services: Services, as_json: bool) -> None:
    """Per supplier: deliveries, on-time rate, lateness p50/p80/p90 (days, learned), open promises,
    units on order, and backordered units waiting on it."""
    today = datetime.now(UTC).date()
    with services.db.session() as session:
        cards, _model = scorecards(session, today, services.settings.eta_confidence)
    if as_json:
        print_json([card.as_dict() for card in cards])
        return
    if not cards:
        click.echo("no suppliers yet; `connector feeds import FILE --supplier NAME` adds one")
        return
    table = Table("supplier", "deliveries", "on time", "p50", "p80", "p90", "open promises", "units on order",
                  "backordered waiting", title=f"Suppliers as of {today.isoformat()} (lateness in days)")
    for card in cards:
        on_time = "-" if card.on_time_rate is None else f"{100 * card.on_time_rate:.0f}%"
        table.add_row(card.supplier, str(card.deliveries), on_time, _days(card.p50_days), _days(card.p80_days),
                      _days(card.p90_days), str(card.open_promises), str(card.units_on_order),
                      str(card.backordered_waiting))
    console().print(table)


@suppliers_group.command("lateness")
@click.option("--csv", "as_csv", is_flag=True, required=True,
              help="Print the model as CSV: supplier,sku,samples,p50_days,p80_days,p90_days.")
@click.pass_obj
def lateness_command(services: Services, as_csv: bool) -> None:
    """Export the learned lateness model (an empty sku is the supplier as a whole); `connector plan
    --lateness FILE` reads it back."""
    today = datetime.now(UTC).date()
    with services.db.session() as session:
        _cards, model = scorecards(session, today, services.settings.eta_confidence)
    click.echo(lateness_csv(model), nl=False)


@click.group("supplies")
def supplies_group() -> None:
    """Arrivals of supplier stock."""


@supplies_group.command("receive")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_obj
def receive_command(services: Services, path: str) -> None:
    """Import receipts (CSV or JSON with supplier, sku, quantity, received_on and an optional reference):
    each settles the supplier's open promises of the SKU first come, first served. Bad rows are reported
    with their line numbers and skipped; the same receipt imported twice counts once."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot read the file ({error.strerror or error})") from None
    parsed = parse_receipts(data, path)
    for rejected in parsed.rejected:
        click.echo(f"{path}, {rejected.where}: {rejected.reason} (row skipped)", err=True)
    with services.db.session() as session:
        result = receive(session, parsed.receipts)
        if result.receipts:
            mark_reconcile_for_scope(session, "all")
    click.echo(f"{path}: {result.receipts} receipt(s) recorded ({result.repeated} already known), "
               f"{result.settled_units} unit(s) settled {result.promises_closed} promise(s), "
               f"{result.unmatched_units} unit(s) matched no open promise; {len(parsed.rejected)} row(s) skipped")
    if not parsed.receipts and parsed.rejected:
        raise InputError(path, "no valid receipt")


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


def _rate(value: object) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"  # type: ignore[arg-type]


@click.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--since", callback=_since, metavar="YYYY-MM-DD", help="Only orders created on or after this day.")
@click.pass_obj
def report_command(services: Services, as_json: bool, since: date | None) -> None:
    """Promises kept, per shop and per supplier: backorder rate, median wait from order to ready,
    promise-kept rate, notices sent, cancellations customers chose, and revenue waiting."""
    today = datetime.now(UTC).date()
    with services.db.session() as session:
        report = outcomes_report(session, today, since)
    if as_json:
        print_json({"as_of": today.isoformat(), "since": since.isoformat() if since else None, **report})
        return
    for title, rows in (("Shops", report["shops"]), ("Suppliers", report["suppliers"])):
        table = Table("name", "orders", "backorder rate", "median wait (d)", "promises", "kept", "notices",
                      "customer cancels", "units waiting", "revenue waiting", title=title)
        for row in rows:
            table.add_row(str(row["name"]), str(row["orders"] if title == "Shops" else "-"),
                          _rate(row["backorder_rate"]), "-" if row["median_wait_days"] is None else
                          f"{row['median_wait_days']:g}", str(row["promises"]), _rate(row["promise_kept_rate"]),
                          str(row["notices_sent"]) if title == "Shops" else "-",
                          str(row["customer_cancellations"]) if title == "Shops" else "-",
                          str(row["units_waiting"]), f"{row['revenue_waiting']:.2f}")
        console().print(table)
