"""Retry timing, failure classification and row claiming shared by the inbox, the outbox and the scheduler.

How it works: a failed item gets `attempts + 1` and a `next_attempt_at` of now plus an exponentially
growing delay (`connector.backoff`, the one backoff the platform clients use too) passed through a
jitter function (separate and injectable, so tests can make it exact). Once `max_attempts` is reached, or when the
error can never succeed by retrying (bad credentials, malformed input, a refused request), the item
is parked as `dead` with its error for the operator. Rows are claimed with `FOR UPDATE SKIP LOCKED`
on PostgreSQL, so concurrent workers never take the same row; SQLite runs one worker and needs no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from connector.backoff import Jitter, backoff_seconds, half_jitter, no_jitter
from connector.errors import AuthError, ConfigError, InputError, NotFoundError, PlatformError, ThrottledError, UserError, is_retryable

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
MAX_ERROR_CHARS = 2000

Verdict = Literal["retry", "dead"]


random_jitter = half_jitter  # the pipeline's default spread
__all__ = ["RetryPolicy", "backoff_delay", "classify", "describe", "is_postgres", "no_jitter", "random_jitter",
           "skip_locked"]


def backoff_delay(attempts: int, *, base: timedelta = BASE_DELAY, cap: timedelta = MAX_DELAY) -> timedelta:
    """The wait before the next try after `attempts` failed tries: base, 2*base, 4*base, ... up to `cap`."""
    return timedelta(seconds=backoff_seconds(attempts, base=base.total_seconds(), cap=cap.total_seconds()))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    jitter: Jitter = field(default=random_jitter)
    base: timedelta = BASE_DELAY
    cap: timedelta = MAX_DELAY

    def next_attempt(self, attempts: int, now: datetime, error: BaseException | None = None) -> datetime | None:
        """When to try again after `attempts` failures, or None when the limit is reached."""
        if attempts >= self.max_attempts:
            return None
        delay = timedelta(seconds=self.jitter(backoff_delay(attempts, base=self.base, cap=self.cap).total_seconds()))
        if isinstance(error, ThrottledError) and error.retry_after:
            delay = max(delay, timedelta(seconds=error.retry_after))
        return now + delay


def classify(error: BaseException) -> Verdict:
    """Whether retrying can help. Transport trouble and unexpected errors are retried (boundedly);
    refused credentials, malformed input and refused requests are parked at once."""
    if is_retryable(error):
        return "retry"
    if isinstance(error, (AuthError, InputError, UserError, ConfigError, NotFoundError, ValueError, LookupError)):
        return "dead"
    if isinstance(error, PlatformError):
        return "dead"
    return "retry"


def describe(error: BaseException) -> str:
    """An error as stored in `last_error`: what kind and what it said, bounded in size."""
    if isinstance(error, AuthError):
        text = f"authentication refused, not retried (fix the shop's credentials, then replay): {error}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:MAX_ERROR_CHARS]


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def skip_locked(session: Session, statement: Any, *, no_key: bool = False) -> Any:
    """`statement` with FOR UPDATE SKIP LOCKED on PostgreSQL (FOR NO KEY UPDATE with `no_key`, which
    still lets other transactions insert rows that reference the locked one); unchanged on SQLite."""
    if is_postgres(session):
        return statement.with_for_update(skip_locked=True, key_share=no_key)
    return statement
