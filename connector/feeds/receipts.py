"""Reads a receipts file (CSV or JSON): what arrived from which supplier, for `connector supplies receive`.

Columns (case-insensitive): `supplier`, `sku`, `quantity`, `received_on` (required), `reference`
(optional: the purchase-order or shipment number). Bad rows are reported with their line (CSV) or item
number (JSON) and skipped, like feed rows; a file that cannot be read at all raises InputError.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticCustomError

from connector.engine.promises import Arrival
from connector.errors import InputError
from connector.feeds.parse import MAX_REFERENCE_LENGTH, MAX_SKU_LENGTH, RejectedRow, guess_format, parse_feed_date
from connector.feeds.parse import parse_quantity
from connector.feeds.promises import Receipt, receipt_key

RECEIPT_FIELDS = ("supplier", "sku", "quantity", "received_on", "reference")
REQUIRED = ("supplier", "sku", "quantity", "received_on")


@dataclass
class ReceiptsParse:
    receipts: list[Receipt] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def _receipt(record: dict[str, Any]) -> tuple[Arrival | None, str]:
    reasons: list[str] = []
    supplier = str(record.get("supplier") or "").strip()
    sku = str(record.get("sku") or "").strip()
    if not supplier:
        reasons.append("missing supplier")
    if not sku:
        reasons.append("missing SKU")
    elif len(sku) > MAX_SKU_LENGTH:
        reasons.append(f"SKU longer than {MAX_SKU_LENGTH} characters")
    quantity: int | None = None
    try:
        quantity = parse_quantity(record.get("quantity"))
        if quantity is None or quantity == 0:
            reasons.append("quantity: expected a whole number above 0")
    except PydanticCustomError as error:
        reasons.append(f"quantity: {error.message()}")
    received = None
    try:
        received = parse_feed_date(record.get("received_on"))
        if received is None:
            reasons.append("received_on: missing")
    except PydanticCustomError as error:
        reasons.append(f"received_on: {error.message()}")
    if reasons or quantity is None or received is None:
        return None, "; ".join(reasons)
    reference = str(record.get("reference") or "").strip()[:MAX_REFERENCE_LENGTH] or None
    return Arrival(supplier, sku, quantity, received, reference), ""


def _records(data: bytes, source: str) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(source, "not UTF-8 text", data[: error.start].count(b"\n") + 1) from None
    if guess_format(data, source) == "json":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(source, f"not valid JSON: {error.msg} (column {error.colno})", error.lineno) from None
        items = parsed.get("items") if isinstance(parsed, dict) else parsed
        if not isinstance(items, list):
            raise InputError(source, 'expected a JSON array of objects or {"items": [...]}')
        return [(number, item if isinstance(item, dict) else {}) for number, item in enumerate(items, 1)], "item"
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    records: list[tuple[int, dict[str, Any]]] = []
    previous_end = 0
    try:
        for fields in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not "".join(fields).strip():
                continue
            if not header:
                header = [value.strip().lower() for value in fields]
                missing = [name for name in REQUIRED if name not in header]
                if missing:
                    raise InputError(source, f"missing column(s) {', '.join(missing)} (columns: {', '.join(header)})",
                                     line)
                continue
            records.append((line, dict(zip(header, fields, strict=False))))
    except csv.Error as error:
        raise InputError(source, f"not readable as CSV: {error}", reader.line_num) from None
    if not header:
        raise InputError(source, "the file is empty")
    return records, "line"


def parse_receipts(data: bytes, source: str) -> ReceiptsParse:
    """Every valid receipt (keyed so the same file imported twice counts once) and every rejected row."""
    records, unit = _records(data, source)
    parsed = ReceiptsParse()
    seen: dict[tuple[Any, ...], int] = {}
    for number, record in records:
        lowered = {str(key).strip().lower(): value for key, value in record.items()}
        arrival, reason = _receipt(lowered)
        if arrival is None:
            parsed.rejected.append(RejectedRow(number, reason or "not a valid row", record, unit))  # type: ignore[arg-type]
            continue
        identity = (arrival.supplier, arrival.sku, arrival.quantity, arrival.received_on, arrival.reference)
        occurrence = seen[identity] = seen.get(identity, 0) + 1  # two identical rows are two receipts
        parsed.receipts.append(Receipt(arrival, receipt_key("file", *identity, occurrence)))
    if not records:
        raise InputError(source, "the file has no receipts")
    return parsed
