"""Small display helpers the dashboard templates use: dates, times, CSV cells and feed sources without secrets."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePath

from connector.csvout import safe_cell
from connector.outbound.addresses import display_url

from connector.web.dashboard.access import blueprint
from connector.web.dashboard.queries import week_label


def fmt_date(value: date | None, unknown: str = "unknown") -> str:
    return value.isoformat() if value else unknown


def fmt_time(value: datetime | None, never: str = "never") -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else never


def fmt_short(value: datetime | None) -> str:
    """A compact time for table cells: "25 Nov 14:01" (UTC)."""
    return value.strftime("%d %b %H:%M") if value else ""


def safe_source(source: str | None) -> str:
    """Where a feed comes from, minus anything that may be a credential (user:password@, query, fragment)."""
    if not source:
        return ""
    if source.startswith(("http://", "https://")):
        return display_url(source).split("?", 1)[0]
    return PurePath(source).name


# The orders and reorder exports write their cells through the one CSV guard the CLI uses too.
csv_cell = safe_cell

REASON_LABELS = {
    "supplier_delay": "supplier delay",
    "demand_surge": "demand surge",
    "awaiting_restock": "awaiting restock",
    "no_supplier_date": "no supplier date",
}


def reason_label(code: str | None) -> str:
    """A reason code as the dashboard words it ("supplier delay"); "" for none."""
    return REASON_LABELS.get(code or "", code or "")


@blueprint.context_processor
def _helpers() -> dict[str, object]:
    return {
        "fmt_date": fmt_date, "fmt_time": fmt_time, "fmt_short": fmt_short,
        "safe_source": safe_source, "week_label": week_label, "reason_label": reason_label,
    }
