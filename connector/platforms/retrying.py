"""How the platform clients retry one request: one decision, the shared backoff (`connector.backoff`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import tenacity

from connector.backoff import Jitter, backoff_seconds, full_jitter, spread_jitter
from connector.errors import ThrottledError, is_retryable

__all__ = ["MAX_RETRY_AFTER", "Jitter", "backoff_seconds", "full_jitter", "platform_retrying", "spread_jitter"]

MAX_RETRY_AFTER = 120.0  # never sleep longer than this on one Retry-After or throttle estimate


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
