"""What the operator sees and settles: deliveries and actions, dead or stuck, and the fixes for them.

How it works: these are the queries behind `connector deliveries ...` and `connector actions ...`.
A dead delivery or action is queued again with its attempts reset. A notice found `sending` (a worker
died between committing `sending` and recording the result) is only ever settled by the operator:
`--sent` records that the customer got it, `--retry` queues it to be sent again.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import InputError
from connector.store.models import Action, InboxItem, utcnow


def list_deliveries(session: Session, *, dead_only: bool = False, limit: int = 100) -> list[InboxItem]:
    statement = select(InboxItem).order_by(InboxItem.id.desc()).limit(limit)
    if dead_only:
        statement = statement.where(InboxItem.status == "dead")
    return list(session.scalars(statement))


def list_actions(session: Session, *, stuck_only: bool = False, dead_only: bool = False, limit: int = 100) -> list[Action]:
    statement = select(Action).order_by(Action.id.desc()).limit(limit)
    if stuck_only:
        statement = statement.where(Action.status == "sending")
    elif dead_only:
        statement = statement.where(Action.status == "dead")
    return list(session.scalars(statement))


def resolve_action(session: Session, action_id: int, outcome: Literal["sent", "retry"]) -> Action:
    """Settle a stuck notice (or re-queue a dead action); InputError when that does not apply."""
    action = session.get(Action, action_id)
    source = f"action {action_id}"
    if action is None:
        raise InputError(source, "no such action; `connector actions list` shows them")
    if outcome == "sent":
        if action.status != "sending":
            raise InputError(source, f"is {action.status}, not sending; only a stuck notice can be marked sent")
        action.status = "sent"
        action.finished_at = utcnow()
        action.last_error = "marked sent by the operator"
        return action
    if action.status not in ("sending", "dead"):
        raise InputError(source, f"is {action.status}; only stuck (sending) or dead actions can be retried")
    action.status = "pending"
    action.attempts = 0
    action.next_attempt_at = utcnow()
    action.last_error = None
    action.started_at = None
    return action
