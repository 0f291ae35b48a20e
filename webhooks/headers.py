"""Reading webhook headers: case-insensitive, with or without the `X-` prefix, and only the ones worth keeping."""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import EnvironHeaders, Headers

MAX_HEADER_VALUE = 500


@lru_cache(maxsize=256)
def _environ_keys(name: str) -> tuple[str, str]:
    key = "HTTP_" + name.upper().replace("-", "_")
    return "HTTP_X_" + key[len("HTTP_"):], key


def _from_environ(environ: dict[str, str], prefixed: str, bare: str) -> str | None:
    # Straight from the WSGI environ: werkzeug's case-insensitive lookup costs more than the rest of a header's work.
    value = environ.get(prefixed)
    if value is None:
        value = environ.get(bare)
    return (value.strip() or None) if value else None


def header(headers: Headers, name: str) -> str | None:
    """The stripped value of `X-<name>` or `<name>` (Shopify's events delivery drops the prefix); None if empty."""
    if isinstance(headers, EnvironHeaders):
        return _from_environ(headers.environ, *_environ_keys(name))
    value = headers.get(f"X-{name}")
    if value is None:
        value = headers.get(name)
    value = (value or "").strip()
    return value or None


@lru_cache(maxsize=16)
def _kept_keys(names: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((f"X-{name}", *_environ_keys(name)) for name in names)


def kept_headers(headers: Headers, names: tuple[str, ...]) -> dict[str, str]:
    """The named headers that are present, under their canonical `X-` names, values bounded in length."""
    kept: dict[str, str] = {}
    if isinstance(headers, EnvironHeaders):
        # The environ keys of each name worked out once per set of names: this runs for every delivery.
        environ = headers.environ
        for canonical, prefixed, bare in _kept_keys(names):
            value = _from_environ(environ, prefixed, bare)
            if value is not None:
                kept[canonical] = value[:MAX_HEADER_VALUE]
        return kept
    for name in names:
        found = header(headers, name)
        if found is not None:
            kept[f"X-{name}"] = found[:MAX_HEADER_VALUE]
    return kept
