"""A small per-process cache with a time limit, so a webhook costs one INSERT and not a lookup too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


@dataclass(slots=True)
class _Entry(Generic[Value]):
    value: Value | None
    loaded_at: float


class TTLCache(Generic[Key, Value]):
    """Values loaded on demand and kept `ttl` seconds. A None from the loader is not cached: what is not
    there yet is looked up again on its next request."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[Key, _Entry[Value]] = {}
        self._lock = threading.Lock()

    def get(self, key: Key, load: Callable[[], Value | None], *, reload: bool = False) -> Value | None:
        entry = self._entries.get(key)
        if entry is not None and not reload and self._clock() - entry.loaded_at <= self._ttl:
            return entry.value
        value = load()
        with self._lock:
            if value is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = _Entry(value, self._clock())
        return value

    def age(self, key: Key) -> float:
        entry = self._entries.get(key)
        return float("inf") if entry is None else self._clock() - entry.loaded_at

    def forget(self, key: Key) -> None:
        with self._lock:
            self._entries.pop(key, None)


def process_cache(extensions: dict[str, Any], key: str, make: Callable[[], TTLCache[Key, Value]]) -> TTLCache[Key, Value]:
    """The cache kept under `key` in a Flask app's `extensions`, made by `make` the first time only (a
    setdefault would make, and drop, one per delivery)."""
    cache: TTLCache[Key, Value] | None = extensions.get(key)
    if cache is None:
        cache = extensions.setdefault(key, make())
    return cache
