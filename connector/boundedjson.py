"""The one JSON parser for everything that arrives from outside: bounded in size and nesting depth.

`json.loads` on a body nested a few thousand levels deep raises RecursionError (a 500 on a web route,
a crash in a worker); here it is an InputError naming the source, like any other malformed input. The
depth is measured before parsing, at C speed: the bracket skeleton left once strings are blanked out
loses one level per pass of removing empty pairs, so the cost is one pass per level actually present.
"""

from __future__ import annotations

import json
import re
from typing import Any

from connector.errors import InputError

MAX_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(set(range(256)) - set(b"[]{}"))


def nesting_depth(data: bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply `data`'s arrays and objects nest (at most `limit` + 1: past the limit it stops counting)."""
    skeleton = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    depth = 0
    while skeleton and depth <= limit:
        shorter = skeleton.replace(b"[]", b"").replace(b"{}", b"")
        if shorter == skeleton:  # unbalanced: json.loads reports it
            break
        skeleton = shorter
        depth += 1
    return depth


def loads(data: bytes | str, *, source: str, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """`data` parsed as JSON; InputError (naming `source`, never quoting the data) when it is larger than
    `max_bytes`, nested deeper than `max_depth`, not UTF-8 or not JSON."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if max_bytes is not None and len(raw) > max_bytes:
        raise InputError(source, f"JSON body is larger than {max_bytes:,} bytes")
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > max_depth and nesting_depth(raw, max_depth) > max_depth:
        raise InputError(source, f"JSON nests deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise InputError(source, "JSON body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise InputError(source, f"body is not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:  # unbalanced brackets escape the depth count; the parser's own guard stops them
        raise InputError(source, f"JSON nests deeper than {max_depth} levels") from None
