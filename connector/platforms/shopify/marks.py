"""What the connector stores in an order's `backorder` metafields, and whether the store already shows it."""

from __future__ import annotations

import json
from typing import Any

from connector.platforms.base import OrderMarks

NAMESPACE = "backorder"
ETA_KEY, STATUS_KEY, LINES_KEY = "eta", "status", "lines"
TYPES = {ETA_KEY: "date", STATUS_KEY: "single_line_text_field", LINES_KEY: "json"}


def desired_values(marks: OrderMarks) -> dict[str, str | None]:
    """Metafield key -> value to store; None means the metafield should not exist (no ETA)."""
    lines = [
        {"line_id": line.line_id, "sku": line.sku, "backordered": line.backordered,
         "eta": line.eta.isoformat() if line.eta else None}
        for line in marks.lines
    ]
    return {
        ETA_KEY: marks.eta.isoformat() if marks.eta else None,
        STATUS_KEY: marks.status,
        LINES_KEY: json.dumps(lines, separators=(",", ":"), sort_keys=True),
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
