"""Store writes of the outbox: one action at a time, marks of many orders per call, or whole batches.

Of several due `marks` of an order only the newest is written (the older ones are `superseded`);
marks of many orders go in one `write_marks` call where the store allows. A platform with
`write_batch_size` takes the store writes (tag, marks, note, hold, release) of that many orders per
`write_batch` call, which reads them after the claim and gives each write its own outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from connector.errors import InputError, Skipped, TransportError
from connector.pipeline.payloads import hold_from_payload, marks_from_payload, split_from_payload
from connector.pipeline.settle import Settler, slot_of
from connector.platforms.base import BACKORDER_TAG, BatchWriting, Platform, WriteKind, WriteRequest
from connector.store.models import Action, Order

BATCHED_KINDS = frozenset({"tag", "untag", "marks", "note", "hold", "release"})

Stopping = Callable[[], bool]


def split_batched(runnable: list[Action]) -> tuple[list[Action], list[Action]]:
    """The store writes that can go in batches, and the rest (run one by one, in order). A write whose
    slot holds an earlier action of another kind (a ship-what's-ready before a hold) stays with the
    rest, so it never overtakes that action."""
    batched: list[Action] = []
    rest: list[Action] = []
    single_slots: set[tuple[int, str]] = set()
    for action in runnable:
        slot = slot_of(action)
        if action.kind in BATCHED_KINDS and slot not in single_slots:
            batched.append(action)
        else:
            single_slots.add(slot)
            rest.append(action)
    return batched, rest


def write_request(order_ref: str, action: Action) -> WriteRequest:
    """The store write an action asks for."""
    payload = action.payload or {}
    kind = cast(WriteKind, action.kind)
    if kind == "marks":
        return WriteRequest(action.id, order_ref, kind, marks=marks_from_payload(payload))
    if kind == "note":
        return WriteRequest(action.id, order_ref, kind, text=str(payload["text"]))
    if kind == "hold":
        return WriteRequest(action.id, order_ref, kind, hold=hold_from_payload(payload))
    return WriteRequest(action.id, order_ref, kind)


def write_one(platform: Platform, order_ref: str, action: Action) -> None:
    """Carry out one store write; raises what the store said."""
    payload = action.payload or {}
    if action.kind == "tag":
        platform.add_tag(order_ref, BACKORDER_TAG)
    elif action.kind == "untag":
        platform.remove_tag(order_ref, BACKORDER_TAG)
    elif action.kind == "note":
        platform.write_note(order_ref, str(payload["text"]))
    elif action.kind == "hold":
        platform.hold(order_ref, hold_from_payload(payload))
    elif action.kind == "release":
        platform.release(order_ref)
    elif action.kind == "ship_ready":
        platform.ship_ready(order_ref, split_from_payload(payload))
    else:
        raise InputError(f"action {action.id}", f"unknown action kind {action.kind!r}")


def write_marks(platform: Platform, settle: Settler, orders: dict[int, Order], marks: list[Action], *,
                limit: int, stopping: Stopping) -> None:
    """The newest marks of each order, `marks_batch_size` orders per call."""
    newest: dict[int, Action] = {}
    for action in marks:
        previous = newest.get(action.order_id)
        if previous is not None:
            settle.done(previous.id, status="superseded", note=f"superseded by action {action.id}")
        newest[action.order_id] = action
    size = max(1, platform.capabilities.marks_batch_size)
    batch = list(newest.values())
    for start in range(0, len(batch), size):
        if settle.executed >= limit or stopping():
            return
        chunk = batch[start : start + size]
        items = [(orders[a.order_id].platform_id, marks_from_payload(a.payload)) for a in chunk]
        try:
            platform.write_marks(items)
        except Skipped as why:
            for action in chunk:
                settle.done(action.id, status="done" if why.partly_done else "skipped", note=why.reason)
            continue
        except Exception as error:  # noqa: BLE001 - every failure is recorded on the rows
            for action in chunk:
                settle.failed(action.id, error)
            continue
        for action in chunk:
            settle.done(action.id)


def write_batched(platform: Platform, settle: Settler, orders: dict[int, Order], actions: list[Action], *,
                  limit: int, stopping: Stopping) -> None:
    """The store writes of many orders in few requests. Per order and slot only the leading action
    goes into a round (an untag never shares a request with the tag before it); of several marks
    only the newest is written. A request that fails as a whole settles nothing: each of its
    actions is retried under the policy."""
    batches = cast(BatchWriting, platform)  # the caller checked `write_batch_size`
    newest: dict[int, Action] = {}
    pending: list[Action] = []
    for action in actions:
        if action.kind == "marks":
            previous = newest.get(action.order_id)
            if previous is not None:
                settle.done(previous.id, status="superseded", note=f"superseded by action {action.id}")
                pending.remove(previous)
            newest[action.order_id] = action
        pending.append(action)
    size = max(1, platform.capabilities.write_batch_size)
    blocked: set[tuple[int, str]] = set()
    while pending and settle.executed < limit and not stopping():
        leading: list[Action] = []
        later: list[Action] = []
        taken: set[tuple[int, str]] = set()
        for action in pending:
            slot = slot_of(action)
            if slot in blocked:
                continue  # waits for its failed predecessor's retry
            (later if slot in taken else leading).append(action)
            taken.add(slot)
        if not leading:
            return
        order_ids = list(dict.fromkeys(action.order_id for action in leading))
        for start in range(0, len(order_ids), size):
            if settle.executed >= limit or stopping():
                return
            chosen = set(order_ids[start : start + size])
            chunk = [action for action in leading if action.order_id in chosen]
            try:
                outcomes = batches.write_batch([write_request(orders[a.order_id].platform_id, a) for a in chunk])
            except Exception as error:  # noqa: BLE001 - the whole request failed: nothing of it is settled
                for action in chunk:
                    settle.failed(action.id, error)
                    blocked.add(slot_of(action))
                continue
            for action in chunk:
                outcome = outcomes.get(action.id, TransportError("the store gave no answer for this write"))
                if not settle.write(action, outcome):
                    blocked.add(slot_of(action))
        pending = later
