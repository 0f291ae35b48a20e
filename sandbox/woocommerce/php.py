"""PHP behaviours the WooCommerce sandbox must reproduce: query parsing, rawurlencode and json_encode."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote

# A PHP request variable: a string, or an (ordered) array written as a dict of string keys.
PhpValue = str | dict[str, Any]

_BRACKETED_NAME = re.compile(r"^([^\[]*)\[([^\]]*)\](.*)$")


def rawurlencode(value: str) -> str:
    """PHP rawurlencode: RFC 3986, everything but letters, digits and -_.~ is percent-encoded."""
    return quote(value, safe="~")


def parse_php_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, PhpValue]:
    """Build $_GET/$_POST from decoded pairs the way PHP does.

    A repeated plain key keeps only the last value (`status=a&status=b` gives "b"); `name[]`
    appends to an array and `name[k]` sets one entry. Only one level of brackets is honoured,
    which is all the WooCommerce endpoints read.
    """
    result: dict[str, PhpValue] = {}
    for raw_key, value in pairs:
        match = _BRACKETED_NAME.match(raw_key)
        if match is None or not match.group(1):
            result[_php_base_name(raw_key)] = value
            continue
        name, index = _php_base_name(match.group(1)), match.group(2)
        current = result.get(name)
        array: dict[str, Any] = current if isinstance(current, dict) else {}
        if index == "":
            numeric = [int(k) for k in array if k.lstrip("-").isdigit()]
            index = str(max(numeric) + 1 if numeric else 0)
        array[index] = value
        result[name] = array
    return result


def parse_php_query(query_string: str) -> dict[str, PhpValue]:
    """$_GET for a raw query string (bytes already decoded as latin-1/utf-8 text)."""
    return parse_php_pairs(parse_qsl(query_string, keep_blank_values=True))


def _php_base_name(name: str) -> str:
    # PHP turns dots and spaces in variable names into underscores.
    return name.replace(".", "_").replace(" ", "_")


def as_list(value: PhpValue | None) -> list[str]:
    """A parameter read as a list: arrays give their values, strings split on commas/spaces (wp_parse_list)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [str(item) for item in value.values()]
    return [part for part in re.split(r"[\s,]+", value) if part]


def json_encode(data: Any) -> str:
    """wp_json_encode with default flags: compact, ASCII-only, slashes escaped as `\\/`."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    # A "/" can only occur inside JSON strings, so escaping it everywhere is exact.
    return text.replace("/", "\\/")


def json_encode_bytes(data: Any) -> bytes:
    return json_encode(data).encode("ascii")
