"""Reads a supplier feed (CSV or JSON) from a byte stream in batches of validated rows, never holding it whole.

How it works: bytes are decoded incrementally as UTF-8 (a BOM is dropped; a bad byte refuses the
feed and names its line). CSV lines come from the io module (universal line ends) to the `csv`
module, which joins quoted fields that span lines; JSON is walked item by item through a top-level array or
`{"items": [...]}` with `json.JSONDecoder.raw_decode`, refilling a small buffer as it goes. Each
record is mapped to the canonical fields and checked by the same field rules as `FeedRow`; valid
rows come out as `SupplyTuple`s in batches, bad ones are counted (the first `keep_rejected` kept with
their line and reason). A problem that makes the whole feed unusable (not UTF-8, not CSV or JSON,
no `sku` column, no rows at all) raises InputError naming the source and, where known, the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from datetime import date
from typing import IO, Any, Literal, NamedTuple

from pydantic_core import PydanticCustomError

from connector.errors import InputError
from connector.feeds.parse import (
    CANONICAL_FIELDS,
    FEED_FIELDS,
    MAX_REFERENCE_LENGTH,
    MAX_SKU_LENGTH,
    FeedFormat,
    RejectedRow,
    canonical_names,
    parse_feed_date,
    parse_quantity,
)

CHUNK_BYTES = 1 << 20
BATCH_ROWS = 10_000
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_QUANTITY_FIELDS = ("available", "restock_qty", "lead_time_days")


class SupplyTuple(NamedTuple):
    """One valid feed row, as stored: the canonical fields and where the row stands in its file."""

    sku: str
    available: int | None
    restock_date: date | None
    restock_qty: int | None
    lead_time_days: int | None
    line: int
    reference: str | None = None  # the optional purchase-order or shipment number

    @property
    def units(self) -> int:
        return (self.available or 0) + (self.restock_qty or 0)


@dataclass
class FeedTally:
    """What a read found so far: valid rows and units, and the rejected rows (the first ones kept)."""

    rows: int = 0
    units: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def validate_record(canonical: Mapping[str, Any], line: int = 0) -> tuple[SupplyTuple | None, str]:
    """The row for one record's canonical fields, or None and every reason it is refused.

    The same rules as `FeedRow`, without building a model per row (a feed can hold millions): plain
    digits and ISO dates take a short path, anything else goes through the full field rules."""
    return _validated(canonical.get("sku"), canonical.get("available"), canonical.get("restock_date"),
                      canonical.get("restock_qty"), canonical.get("lead_time_days"), line)


def _validated(raw_sku: Any, available: Any, restock: Any, restock_qty: Any, lead: Any,
               line: int) -> tuple[SupplyTuple | None, str]:
    sku = "" if raw_sku is None else str(raw_sku).strip()
    try:
        # Inline short paths: this runs once per row of feeds with millions of them.
        quantity = (None if available is None or available == "" else int(available)
                    if available.__class__ is str and len(available) < 10 and available.isdigit()
                    and available.isascii() else parse_quantity(available))
        wanted = (None if restock_qty is None or restock_qty == "" else int(restock_qty)
                  if restock_qty.__class__ is str and len(restock_qty) < 10 and restock_qty.isdigit()
                  and restock_qty.isascii() else parse_quantity(restock_qty))
        days = (None if lead is None or lead == "" else int(lead)
                if lead.__class__ is str and len(lead) < 10 and lead.isdigit() and lead.isascii()
                else parse_quantity(lead))
        if restock.__class__ is str and len(restock) == 10 and restock[4] == "-" and restock[7] == "-":
            day: date | None = date.fromisoformat(restock)
        else:
            day = parse_feed_date(restock)
        if sku and len(sku) <= MAX_SKU_LENGTH:
            return SupplyTuple(sku, quantity, day, wanted, days, line), ""
    except (PydanticCustomError, ValueError):
        pass
    return None, _reasons(sku, available, restock, restock_qty, lead)


def _reasons(sku: str, available: Any, restock: Any, restock_qty: Any, lead: Any) -> str:
    """Every reason a record is refused, in field order (only for the rows that are)."""
    reasons: list[str] = []
    if not sku:
        reasons.append("missing SKU")
    elif len(sku) > MAX_SKU_LENGTH:
        reasons.append(f"SKU longer than {MAX_SKU_LENGTH} characters")
    for name, value in (("available", available), ("restock_qty", restock_qty), ("lead_time_days", lead)):
        try:
            parse_quantity(value)
        except PydanticCustomError as error:
            reasons.append(f"{name}: {error.message()}")
    try:
        parse_feed_date(restock)
    except PydanticCustomError as error:
        reasons.append(f"restock_date: {error.message()}")
    return "; ".join(reasons) or "not a valid row"


class _CountingStream(io.RawIOBase):
    """A binary stream that reports how many bytes have gone by, read in chunks or through a buffer."""

    def __init__(self, stream: IO[bytes], on_bytes: Callable[[int], None] | None) -> None:
        super().__init__()
        self.stream = stream
        self.on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        if data and self.on_bytes is not None:
            self.on_bytes(len(data))
        return len(data)

    def chunks(self) -> Iterator[bytes]:
        while True:
            chunk = self.stream.read(CHUNK_BYTES)
            if not chunk:
                return
            if self.on_bytes is not None:
                self.on_bytes(len(chunk))
            yield chunk


def _decoded(chunks: Iterator[bytes], source: str) -> Iterator[str]:
    """UTF-8 text (BOM dropped) chunk by chunk; a bad byte raises InputError with its line."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    lines_before = 0
    for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise InputError(source, "not UTF-8 text", lines_before + chunk[: max(error.start, 0)].count(b"\n") + 1) from None
        lines_before += chunk.count(b"\n")
        if text:
            yield text
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(source, "not UTF-8 text", lines_before + 1) from None
    if tail:
        yield tail


class FeedReader:
    """One feed read from `stream`: `batches()` yields lists of valid rows; `tally` counts as it goes."""

    def __init__(
        self,
        stream: IO[bytes],
        source: str,
        *,
        fmt: FeedFormat,
        column_map: Mapping[str, str] | None = None,
        keep_rejected: int | None = 1000,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.source = source
        self.fmt = fmt
        self.column_map = dict(column_map or {})
        self.keep_rejected = keep_rejected
        self.tally = FeedTally()
        self._stream = stream
        self._counting = _CountingStream(stream, on_bytes)
        self._chunks = self._counting.chunks()

    def _reject(self, line: int, reason: str, raw: dict[str, Any], unit: Literal["line", "item"]) -> None:
        self.tally.rejected_count += 1
        if self.keep_rejected is None or len(self.tally.rejected) < self.keep_rejected:
            self.tally.rejected.append(RejectedRow(line, reason, raw, unit))

    def _accept(self, row: SupplyTuple | None, reason: str, raw: Callable[[], dict[str, Any]], line: int,
                unit: Literal["line", "item"]) -> SupplyTuple | None:
        """Count the valid row, or the rejected record (`raw` builds what to show of it)."""
        if row is None:
            self._reject(line, reason, raw(), unit)
            return None
        self.tally.rows += 1
        self.tally.units += (row.available or 0) + (row.restock_qty or 0)
        return row

    def batches(self, size: int = BATCH_ROWS) -> Iterator[list[SupplyTuple]]:
        """Every valid row, `size` at a time; raises InputError when the feed as a whole is unusable."""
        batch: list[SupplyTuple] = []
        records = self._csv_rows() if self.fmt == "csv" else self._json_rows()
        for row in records:
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    # -- CSV --------------------------------------------------------------------------------------

    def _csv_lines(self) -> Iterator[str]:
        """The feed's text lines, decoded by the io module (universal line ends, as csv wants them); on a
        byte that is not UTF-8 the feed is read again from the start to name its line. (Closing these
        wrappers closes only our counting stream, never the caller's.)"""
        text = io.TextIOWrapper(io.BufferedReader(self._counting, CHUNK_BYTES), encoding="utf-8-sig", newline="")
        try:
            yield from text
        except UnicodeDecodeError:
            self._stream.seek(0)
            for _ in _decoded(_CountingStream(self._stream, None).chunks(), self.source):
                pass
            raise InputError(self.source, "not UTF-8 text") from None

    def _csv_rows(self) -> Iterator[SupplyTuple]:
        reader = csv.reader(self._csv_lines())
        previous_end = 0
        header: list[str] = []
        positions: tuple[int, ...] = ()
        width, full, getter = 0, False, None
        reference_at = -1
        records = 0
        try:
            for fields in reader:
                line = previous_end + 1
                previous_end = reader.line_num
                first = fields[0] if fields else ""
                if (not first or first.isspace()) and not "".join(fields).strip():
                    continue
                if not header:
                    header = [value.strip() for value in fields]
                    names = canonical_names(fields, self.column_map, self.source)
                    if "sku" not in names:
                        raise InputError(self.source, f"no sku column among its {len(header)} columns (name one sku, "
                                                      "or map one with --map NAME=sku)", line)
                    positions = tuple(names.index(name) if name in names else -1 for name in CANONICAL_FIELDS)
                    width, full = len(fields), all(at >= 0 for at in positions)
                    getter = itemgetter(*positions) if full else None
                    reference_at = names.index("reference") if "reference" in names else -1
                    continue
                records += 1
                count = len(fields)
                columns = header
                if count > len(columns):
                    raw = dict(zip(columns, fields, strict=False))
                    self._reject(line, f"{count} fields but the header has {len(columns)}", raw, "line")
                    continue
                if count == width and getter is not None:  # set exactly when every column is present
                    sku, available, restock, restock_qty, lead = getter(fields)
                else:
                    sku, available, restock, restock_qty, lead = (
                        fields[at] if 0 <= at < count else None for at in positions)
                row, reason = _validated(sku, available, restock, restock_qty, lead, line)
                # _accept calls the lambda before the loop moves on, so the late binding is safe.
                accepted = self._accept(
                    row, reason, lambda: dict(zip(columns, fields, strict=False)), line, "line")  # noqa: B023
                if accepted is not None:
                    if 0 <= reference_at < count and fields[reference_at].strip():
                        accepted = accepted._replace(reference=fields[reference_at].strip()[:MAX_REFERENCE_LENGTH])
                    yield accepted
        except csv.Error as error:
            raise InputError(self.source, f"not readable as CSV: {error}", reader.line_num) from None
        if not header:
            raise InputError(self.source, "the feed is empty")
        if records == 0:
            raise InputError(self.source, "the feed has a header but no rows")

    # -- JSON -------------------------------------------------------------------------------------

    def _json_rows(self) -> Iterator[SupplyTuple]:
        mapping: dict[str, str] = {}  # item key -> canonical name
        claimed: dict[str, str] = {}  # canonical name -> the key that became it
        seen_sku = False
        count = 0
        for number, item in enumerate(_JsonItems(_decoded(self._chunks, self.source), self.source), 1):
            count = number
            if not isinstance(item, dict):
                self._reject(number, "not a JSON object", {"value": item}, "item")
                continue
            for key in item:
                if key not in mapping:
                    name = canonical_names([key], self.column_map, self.source)[0]
                    if name in FEED_FIELDS:
                        other = claimed.setdefault(name, key)
                        if other != key:
                            raise InputError(self.source, f"more than one column becomes {name!r}: check the column map")
                    mapping[key] = name
            canonical = {mapping[key]: value for key, value in item.items() if mapping[key] in FEED_FIELDS}
            seen_sku = seen_sku or "sku" in canonical
            row, reason = validate_record(canonical, number)
            accepted = self._accept(row, reason, lambda: item, number, "item")  # noqa: B023 - called at once
            if accepted is not None:
                reference = canonical.get("reference")
                if reference is not None and str(reference).strip():
                    accepted = accepted._replace(reference=str(reference).strip()[:MAX_REFERENCE_LENGTH])
                yield accepted
        if count == 0:
            raise InputError(self.source, "the feed is empty")
        if not seen_sku:
            raise InputError(self.source, f"no sku field in any item (they have {len(mapping)} other fields; "
                                          "map one with --map NAME=sku)")


# The decoder's own recursion guard (about the interpreter's recursion limit) is what stops a deep item.
MAX_ITEM_DEPTH = 900


class _JsonItems:
    """The items of a top-level JSON array, or of the `items` array of a top-level object, one at a time."""

    def __init__(self, texts: Iterator[str], source: str) -> None:
        self.texts = texts
        self.source = source
        self.buffer = ""
        self.pos = 0
        self.lines_before = 0  # newlines in text already dropped from the buffer
        self.eof = False
        self.decoder = json.JSONDecoder()

    # buffer handling

    def _fill(self) -> bool:
        chunk = next(self.texts, None)
        if chunk is None:
            self.eof = True
            return False
        self.lines_before += self.buffer.count("\n", 0, self.pos)
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def _skip_space(self) -> str:
        """The next significant character ('' at the end of the input)."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def _error(self, message: str, position: int) -> InputError:
        line = self.lines_before + self.buffer.count("\n", 0, position) + 1
        column = position - self.buffer.rfind("\n", 0, position)
        return InputError(self.source, f"not valid JSON: {message} (column {column})", line)

    def _value(self) -> Any:
        self._skip_space()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                if not self.eof and self._fill():
                    continue
                raise self._error(error.msg, error.pos) from None
            except RecursionError:  # an item nested thousands deep: refused like any malformed feed
                raise self._error(f"an item nests deeper than {MAX_ITEM_DEPTH} levels", self.pos) from None
            if end == len(self.buffer) and not self.eof and self._fill():
                continue  # a number (or literal) may go on in the next chunk
            self.pos = end
            return value

    def _expect(self, wanted: str, what: str) -> None:
        found = self._skip_space()
        if found != wanted:
            raise self._error(f"Expecting {what}", self.pos)
        self.pos += 1

    # walking

    def __iter__(self) -> Iterator[Any]:
        first = self._skip_space()
        if first == "":
            raise InputError(self.source, "the feed is empty")
        if first == "[":
            yield from self._array()
        elif first == "{":
            yield from self._wrapped()
        else:
            self._value()
            raise InputError(self.source, 'expected a JSON array of objects or {"items": [...]}')
        if self._skip_space() != "":
            raise self._error("Extra data", self.pos)

    def _array(self) -> Iterator[Any]:
        self.pos += 1  # the [
        if self._skip_space() == "]":
            self.pos += 1
            return
        while True:
            yield self._value()
            following = self._skip_space()
            if following == ",":
                self.pos += 1
                self._skip_space()
                continue
            if following == "]":
                self.pos += 1
                return
            raise self._error("Expecting ',' delimiter", self.pos)

    def _wrapped(self) -> Iterator[Any]:
        self.pos += 1  # the {
        found = False
        if self._skip_space() == "}":
            self.pos += 1
        else:
            while True:
                if self._skip_space() != '"':
                    raise self._error("Expecting property name enclosed in double quotes", self.pos)
                key = self._value()
                self._expect(":", "':' delimiter")
                if key == "items" and self._skip_space() == "[" and not found:
                    found = True
                    yield from self._array()
                else:
                    self._value()
                following = self._skip_space()
                if following == ",":
                    self.pos += 1
                    continue
                if following == "}":
                    self.pos += 1
                    break
                raise self._error("Expecting ',' delimiter", self.pos)
        if not found:
            raise InputError(self.source, 'expected a JSON array of objects or {"items": [...]}')
