"""The one backoff policy: how long to wait after a failed try, with the jitter kept apart so tests can fix it.

The platform clients sleep it between the tries of one request (`platforms/retrying.py`); the inbox,
outbox and scheduler schedule the next try of a stored item with it (`pipeline/retry.py`). Both honour a
store's own Retry-After where it gave one.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Jitter = Callable[[float], float]
"""Given the backoff delay in seconds, the delay actually used."""


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """The wait after failed try number `attempt` (1-based): base, 2*base, 4*base, ... up to `cap`; 0 before any."""
    if attempt < 1:
        return 0.0
    return min(cap, base * 2 ** min(attempt - 1, 30))  # beyond 2**30 the cap has long applied


def full_jitter(delay: float) -> float:
    """Anywhere up to the delay: the widest spread, for stores many workers share."""
    return random.uniform(0.0, delay)


def spread_jitter(delay: float) -> float:
    """Somewhere between the delay and a quarter more, so many workers do not retry in lockstep."""
    return delay + random.uniform(0.0, delay / 4)


def half_jitter(delay: float) -> float:
    """Somewhere between half and all of the delay, so items that failed together do not retry together."""
    return delay * (0.5 + random.random() / 2)


def no_jitter(delay: float) -> float:
    """Exactly the delay (tests)."""
    return delay
