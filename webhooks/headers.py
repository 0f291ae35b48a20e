"""Reading webhook headers: case-insensitive, with or without the `X-` prefix, and only the ones worth keeping."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from werkzeug.datastructures import EnvironHeaders, Headers

MAX_HEADER_VALUE = 500


@lru_cache(maxsize=256)
def _environ_keys(name: str) -> tuple[str, str]:
    key = "HTTP_" + name.upper().replace("-", "_")
    return "HTTP_X_" + key[len("HTTP_"):], key


def header(headers: Headers, name: str) -> str | None:
    """The stripped value of `X-<name>` or `<name>` (Shopify's events delivery drops the prefix); None if empty."""
    if isinstance(headers, EnvironHeaders):
        # Straight from the WSGI environ: werkzeug's case-insensitive lookup costs more than the rest of a header's work.
        prefixed, bare = _environ_keys(name)
        environ = headers.environ
        value = environ.get(prefixed)
        if value is None:
            value = environ.get(bare)
    else:
        value = headers.get(f"X-{name}")
        if value is None:
            value = headers.get(name)
    value = (value or "").strip()
    return value or None


def kept_headers(headers: Headers, names: Iterable[str]) -> dict[str, str]:
    """The named headers that are present, under their canonical `X-` names, values bounded in length."""
    kept: dict[str, str] = {}
    for name in names:
        value = header(headers, name)
        if value is not None:
            kept[f"X-{name}"] = value[:MAX_HEADER_VALUE]
    return kept
