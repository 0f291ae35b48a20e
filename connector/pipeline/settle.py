"""Settling outbox actions: each result is recorded on its row as soon as it is known, one commit per action.

Actions of an order run per slot (tag/untag, hold/release, marks, note, notify, cancel) in the order
they were planned. When one fails and waits for its retry, the later ones of its slot wait too (their
next attempt moves to the same time), so an untag never overtakes its tag.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from connector.errors import NotFoundError, Skipped
from connector.pipeline.retry import RetryPolicy, classify, describe
from connector.platforms.base import WriteOutcome
from connector.store.db import Database
from connector.store.models import Action, utcnow

log = logging.getLogger(__name__)

SLOTS = {"tag": "tag", "untag": "tag", "hold": "hold", "release": "hold", "marks": "marks", "note": "note", "notify": "notify",
         "cancel": "cancel", "ship_ready": "hold"}


def slot_of(action: Action) -> tuple[int, str]:
    """The (order, slot) an action queues in."""
    return action.order_id, SLOTS.get(action.kind, action.kind)


class Settler:
    """Records outcomes for one worker and counts them (`executed`: done, retried or parked)."""

    def __init__(self, db: Database, *, worker_id: str, retry: RetryPolicy) -> None:
        self.db = db
        self.worker_id = worker_id
        self.retry = retry
        self.executed = 0

    def done(self, action_id: int, *, status: str = "done", note: str | None = None) -> None:
        with self.db.session() as session:
            action = session.get(Action, action_id)
            if action is None or action.status not in ("pending", "sending"):
                return
            action.status = status
            action.finished_at = utcnow()
            action.worker_id = self.worker_id
            action.last_error = note
        self.executed += 1

    def failed(self, action_id: int, error: BaseException, *, counted: bool = False) -> None:
        """Schedule a retry or park the action; later actions of its slot wait for the retry."""
        with self.db.session() as session:
            action = session.get(Action, action_id)
            if action is None:
                return
            if not counted:
                action.attempts += 1
            action.last_error = describe(error)
            action.worker_id = self.worker_id
            retry_at = self.retry.next_attempt(action.attempts, utcnow(), error) if classify(error) == "retry" else None
            if retry_at is None:
                action.status = "dead"
                action.finished_at = utcnow()
                log.warning("action %s (%s) is dead: %s", action.id, action.kind, action.last_error)
                return
            action.status = "pending"
            action.next_attempt_at = retry_at
            kinds = [kind for kind, slot in SLOTS.items() if slot == SLOTS[action.kind]]
            session.execute(
                update(Action)
                .where(Action.order_id == action.order_id, Action.id > action.id, Action.status == "pending",
                       Action.kind.in_(kinds), Action.next_attempt_at < retry_at)
                .values(next_attempt_at=retry_at)
            )
        self.executed += 1

    def write(self, action: Action, outcome: WriteOutcome) -> bool:
        """Record a store write's outcome; False when it failed (its slot then waits)."""
        if isinstance(outcome, Skipped):
            # Not the store's to give (a scope not granted, no HOLD offered): recorded, never retried.
            self.done(action.id, status="done" if outcome.partly_done else "skipped", note=outcome.reason)
            return True
        if isinstance(outcome, NotFoundError):
            self.done(action.id, note=f"order not found in the store, nothing written: {outcome}")
            return True
        if isinstance(outcome, Exception):
            self.failed(action.id, outcome)
            return False
        self.done(action.id)
        return True
