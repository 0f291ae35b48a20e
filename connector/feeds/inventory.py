"""The operator's stock file (CSV `sku,on_hand`) -> allocatable units per SKU.

Unlike a supplier feed, one bad row refuses the whole file: this is the store's own stock truth,
and silently dropping a row would make that SKU untracked (never backordered) or, for a duplicate,
pick one of two counts at random — either way the plan would be quietly wrong.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from connector.errors import InputError

_INTEGER = re.compile(r"^[+-]?\d+$")


def parse_inventory_bytes(data: bytes, source: str) -> dict[str, int]:
    """Parse CSV with a header holding `sku` and `on_hand` (any order, other columns ignored).

    `on_hand` may be negative: platforms report oversold stock that way, and the engine counts it
    as none. Raises InputError naming `source` and the line for anything else out of place.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(source, "not UTF-8 text", data[: error.start].count(b"\n") + 1) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    stock: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    sku_index = on_hand_index = -1
    previous_end = 0
    try:
        for fields in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(value.strip() for value in fields):
                continue
            if sku_index < 0:
                header = [value.strip().lower() for value in fields]
                if "sku" not in header or "on_hand" not in header:
                    raise InputError(source, "the header must name the columns sku and on_hand", line)
                sku_index, on_hand_index = header.index("sku"), header.index("on_hand")
                continue
            if len(fields) <= max(sku_index, on_hand_index):
                raise InputError(source, f"expected sku and on_hand, got {len(fields)} field(s)", line)
            sku = fields[sku_index].strip()
            count = fields[on_hand_index].strip()
            if not sku:
                raise InputError(source, "missing SKU", line)
            if not _INTEGER.match(count):
                raise InputError(source, f"on_hand for {sku} must be a whole number, got {count!r}", line)
            if sku in stock:
                raise InputError(source, f"SKU {sku} appears twice (first on line {first_seen[sku]})", line)
            stock[sku] = int(count)
            first_seen[sku] = line
    except csv.Error as error:
        raise InputError(source, f"not readable as CSV: {error}", reader.line_num) from None
    if sku_index < 0:
        raise InputError(source, "the file is empty")
    if not stock:
        raise InputError(source, "the file has a header but no rows")
    return stock


def parse_inventory_csv(path: str | Path) -> dict[str, int]:
    """Read and parse an inventory file; InputError names the file (and line) on any problem."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(source, f"cannot read the file ({error.strerror or error})") from None
    return parse_inventory_bytes(data, source)
