"""Supplier feed rules: the canonical fields, how each value is read, column maps, and whole-feed parsing."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from connector.engine.types import SupplyRow
from connector.errors import InputError

FeedFormat = Literal["csv", "json"]
CANONICAL_FIELDS = ("sku", "available", "restock_date", "restock_qty", "lead_time_days")
# Optional columns beside them: `reference` (a purchase-order or shipment number) names a promise across imports.
FEED_FIELDS = (*CANONICAL_FIELDS, "reference")
MAX_REFERENCE_LENGTH = 200

# Only formats whose day and month cannot be confused; 01/02/2026 is refused rather than guessed.
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+(\.0*)?$")
MAX_QUANTITY = 1_000_000_000  # units or days; far beyond any real feed, and inside a database integer
MAX_SKU_LENGTH = 255


def _feed_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("feed_value", message)


def parse_quantity(value: Any) -> int | None:
    """A whole, non-negative number of units or days; blank means "not given"."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _feed_error("expected a whole number, got true/false")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise _feed_error(f"expected a whole number, got {value}")
        number = int(value)
    else:
        text = str(value).strip()
        if text.isdigit() and text.isascii() and len(text) < 10:
            return int(text)
        if not text:
            return None
        if not _WHOLE_NUMBER.match(text):
            raise _feed_error(f"expected a whole number, got {text!r}")
        number = int(float(text)) if "." in text else int(text)
    if number < 0:
        raise _feed_error(f"negative quantity {number}")
    if number > MAX_QUANTITY:
        raise _feed_error(f"{number} is larger than {MAX_QUANTITY:,}")
    return number


def parse_feed_date(value: Any) -> date | None:
    """An unambiguous date (ISO 8601 first); blank means "no restock date"."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) == 10 and text[4] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    if _ISO_DATETIME.match(text):
        text = text[:10]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _feed_error(f"unknown date format {text!r} (use YYYY-MM-DD)")


class FeedRow(BaseModel):
    """One valid feed row in canonical fields."""

    model_config = ConfigDict(frozen=True)

    sku: str
    available: int | None = None
    restock_date: date | None = None
    restock_qty: int | None = None
    lead_time_days: int | None = None
    line: int = 0  # where the row stands in its file (CSV line or JSON item number), for messages

    @field_validator("sku", mode="before")
    @classmethod
    def _sku(cls, value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if not text:
            raise _feed_error("missing SKU")
        if len(text) > MAX_SKU_LENGTH:
            raise _feed_error(f"SKU longer than {MAX_SKU_LENGTH} characters")
        return text

    @field_validator("available", "restock_qty", "lead_time_days", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int | None:
        return parse_quantity(value)

    @field_validator("restock_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> date | None:
        return parse_feed_date(value)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row left out of the import: `line` is the file line (CSV) or 1-based item number (JSON)."""

    line: int
    reason: str
    raw: dict[str, Any]
    unit: Literal["line", "item"] = "line"

    @property
    def where(self) -> str:
        """`line 7` or `item 3`, for messages."""
        return f"{self.unit} {self.line}"


@dataclass(frozen=True, slots=True)
class FeedParse:
    rows: list[FeedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def to_supply(row: FeedRow, supplier: str) -> SupplyRow:
    """The engine's view of one feed row."""
    return SupplyRow(supplier, row.sku, row.available, row.restock_date, row.restock_qty, row.lead_time_days)


def guess_format(data: bytes, source: str) -> FeedFormat:
    """By file extension, else JSON when the content starts with `[` or `{`, else CSV."""
    suffix = PurePath(source.split("?", 1)[0]).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".json":
        return "json"
    return "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") else "csv"


def canonical_names(columns: list[str], column_map: Mapping[str, str], source: str) -> list[str]:
    """Each column's canonical name (mapped first, then by its own name, case-insensitively)."""
    mapping = {key.strip().lower(): value.strip().lower() for key, value in column_map.items()}
    for target in mapping.values():
        if target not in FEED_FIELDS:
            raise InputError(source, f"cannot map a column to unknown field {target!r} "
                                     f"(fields: {', '.join(FEED_FIELDS)})")
    names = [mapping.get(column.strip().lower(), column.strip().lower()) for column in columns]
    for name in FEED_FIELDS:
        if names.count(name) > 1:
            raise InputError(source, f"more than one column becomes {name!r}: check the column map")
    return names


def parse_feed(
    data: bytes,
    source: str,
    *,
    fmt: FeedFormat | None = None,
    column_map: Mapping[str, str] | None = None,
) -> FeedParse:
    """Parse a whole feed held in memory (the offline `plan`; imports stream through `FeedReader`).

    Bad rows land in `rejected` with their line (CSV) or item number (JSON); a feed that is not
    UTF-8, not parseable, empty, or has no `sku` column raises InputError.
    `column_map` renames the supplier's columns: {"item_code": "sku", "eta": "restock_date"}."""
    from connector.feeds.reader import FeedReader

    reader = FeedReader(io.BytesIO(data), source, fmt=fmt or guess_format(data, source), column_map=column_map,
                        keep_rejected=None)
    rows = [
        FeedRow.model_construct(sku=row.sku, available=row.available, restock_date=row.restock_date,
                                restock_qty=row.restock_qty, lead_time_days=row.lead_time_days, line=row.line)
        for batch in reader.batches()
        for row in batch
    ]
    return FeedParse(rows=rows, rejected=reader.tally.rejected)


def parse_column_map(pairs: list[str] | tuple[str, ...], source: str = "--map") -> dict[str, str]:
    """`["item_code=sku", "eta=restock_date"]` -> {"item_code": "sku", "eta": "restock_date"}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or target.strip().lower() not in FEED_FIELDS:
            raise InputError(source, f"expected COLUMN=FIELD with FIELD one of {', '.join(FEED_FIELDS)}, "
                                     f"got {pair!r}")
        mapping[column.strip()] = target.strip().lower()
    return mapping
