"""What the connector stores in an order's `backorder` metafields, and whether the store already shows it."""

from __future__ import annotations

import json
from typing import Any

from connector.platforms.base import OrderMarks, line_entry

NAMESPACE = "backorder"
ETA_KEY, STATUS_KEY, LINES_KEY = "eta", "status", "lines"
EARLIEST_KEY, LATEST_KEY = "eta_earliest", "eta_latest"  # the range told, only while there is one
TYPES = {ETA_KEY: "date", STATUS_KEY: "single_line_text_field", LINES_KEY: "json", EARLIEST_KEY: "date",
         LATEST_KEY: "date"}


def desired_values(marks: OrderMarks) -> dict[str, str | None]:
    """Metafield key -> value to store; None means the metafield should not exist (no ETA)."""
    lines = [line_entry(line) for line in marks.lines]
    ranged = marks.ranged
    return {
        ETA_KEY: marks.eta.isoformat() if marks.eta else None,
        STATUS_KEY: marks.status,
        LINES_KEY: json.dumps(lines, separators=(",", ":"), sort_keys=True),
        EARLIEST_KEY: marks.eta_earliest.isoformat() if ranged and marks.eta_earliest else None,
        LATEST_KEY: marks.eta_latest.isoformat() if ranged and marks.eta_latest else None,
    }



def same_value(key: str, stored: str | None, wanted: str | None) -> bool:
    """Equal as Shopify would show them; JSON is compared parsed, since Shopify may re-serialise it."""
    if stored is None or wanted is None:
        return stored is wanted
    if TYPES.get(key) == "json":
        try:
            return _parsed(stored) == _parsed(wanted)
        except ValueError:
            return False
    return stored == wanted


def _parsed(text: str) -> Any:
    return json.loads(text)
