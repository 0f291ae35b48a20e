"""How the platform clients retry: one decision, one backoff, and jitter kept apart so tests can fix it."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import tenacity

from connector.errors import ThrottledError, is_retryable

Jitter = Callable[[float], float]
"""Given the backoff delay, the delay actually slept."""

MAX_RETRY_AFTER = 120.0  # never sleep longer than this on one Retry-After or throttle estimate


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """The wait after failed attempt number `attempt` (1-based): base, 2*base, 4*base, ... up to `cap`."""
    return min(cap, base * 2 ** min(max(attempt - 1, 0), 30))


def full_jitter(delay: float) -> float:
    """Anywhere up to the delay: the widest spread, for stores many workers share."""
    return random.uniform(0.0, delay)


def spread_jitter(delay: float) -> float:
    """Somewhere between the delay and a quarter more, so many workers do not retry in lockstep."""
    return delay + random.uniform(0.0, delay / 4)


def platform_retrying(
    *,
    attempts: int,
    sleep: Callable[[float], None],
    jitter: Jitter = spread_jitter,
    base: float = 1.0,
    cap: float = 60.0,
    log: logging.Logger,
    what: str,
) -> tenacity.Retrying:
    """A tenacity policy for one platform call: retry only what `errors.is_retryable` allows, at most
    `attempts` times; wait as long as the store asked when it said (Retry-After, throttle status),
    else back off exponentially with jitter."""

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ThrottledError) and error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER)
        return jitter(backoff_seconds(state.attempt_number, base=base, cap=cap))

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s: attempt %d failed (%s); retrying in %.2f s", what, state.attempt_number, error, delay)

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
