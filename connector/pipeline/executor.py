"""Outbox executor: claims orders with due actions, dispatches each action to its store or channel, and settles it.

How it works: a worker claims a group of one shop's orders (`pipeline/claims.py`; locked on
PostgreSQL), opens the shop's platform once, and runs the orders' pending actions. The actions'
results are committed one by one (`pipeline/settle.py`), so a crash loses at most the action in hand
(store writes read before they write, so doing one again is harmless). SQLite runs a single worker.

Within an order, actions run in the order they were planned, per slot (tag/untag, hold/release,
marks, note, notify): when one fails and waits for its retry, the later ones of its slot wait too, so
an untag never overtakes its tag. Store writes go one by one, or marks and whole batches of many
orders per call where the platform allows (`pipeline/writes.py`). Notices are composed and rendered
by `connector.notify.compose`; cancels are carried out by `pipeline/cancels.py`.

A notice is marked `sending` and committed before the send and `sent` (with channel and receipt)
after. A crash in between leaves it `sending`: it is never sent again automatically, only listed as
stuck for the operator (`connector actions list --stuck`), who settles it with `actions resolve`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from threading import Event
from typing import cast

from sqlalchemy import select, update

from connector.errors import ConnectorError, InputError, UserError
from connector.notify import Channel
from connector.notify.compose import NotifierFactory, build_notice, default_notifier, notice_ref
from connector.pipeline.cancels import CANCEL_KIND, carry_out, record_done, record_refused
from connector.pipeline.claims import CLAIM_GROUP, Claim, claim_orders
from connector.pipeline.retry import RetryPolicy, describe
from connector.pipeline.settle import Settler, slot_of
from connector.pipeline.writes import split_batched, write_batched, write_marks, write_one
from connector.platforms.base import BatchWriting, Platform
from connector.services import Services
from connector.settings import Settings
from connector.store.db import Database
from connector.store.models import Action, Order, Shop, utcnow

log = logging.getLogger(__name__)

__all__ = ["NotifierFactory", "default_notifier", "run_due_actions"]

PLATFORM_NOTE_CHANNEL = "platform_note"
STUCK_HINT = "resolve with `connector actions resolve ID --sent` or `--retry` after checking whether the customer got it"


class _Runner:
    """Executes the actions of one claim and records each result as soon as it is known."""

    def __init__(self, services: Services, claim: Claim, *, now: datetime, worker_id: str, retry: RetryPolicy,
                 notifier: NotifierFactory, stop: Event | None) -> None:
        self.services = services
        self.db: Database = services.db
        self.settings: Settings = services.settings
        self.claim = claim
        self.now = now
        self.worker_id = worker_id
        self.settle = Settler(self.db, worker_id=worker_id, retry=retry)
        self.notifier = notifier
        self.stop = stop
        self.held = 0  # actions pushed back behind a waiting predecessor
        self.platform: Platform | None = None
        self.channel: Channel | None = None

    @property
    def executed(self) -> int:
        return self.settle.executed

    def run(self, limit: int) -> int:
        with self.db.session() as session:
            shop = session.get(Shop, self.claim.shop_id)
            orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(self.claim.order_ids)))}
            actions = list(
                session.scalars(
                    select(Action)
                    .where(Action.order_id.in_(self.claim.order_ids), Action.status == "pending")
                    .order_by(Action.id)
                )
            )
        runnable = self._runnable(actions)
        if not runnable:
            return 0
        if shop is None or not shop.active:
            for action in runnable[:limit]:
                self.settle.failed(action.id, InputError(f"shop {self.claim.shop_id}", "the shop is uninstalled or gone"))
            return self.executed
        try:
            self.platform = platform = self.services.platform_for(shop)
        except Exception as error:  # noqa: BLE001 - e.g. credentials gone: recorded on every action
            for action in runnable[:limit]:
                self.settle.failed(action.id, error)
            return self.executed
        try:
            if platform.capabilities.write_batch_size > 1:
                batched, rest = split_batched(runnable)
                # Announced first, so a platform can record the notices' bookkeeping with the writes.
                # Only the notices this run will reach after the writes: an announced one left unsent
                # would cost its next run a look at the store.
                budget = max(0, limit - self.executed - len(batched))
                self._prepare_notices(shop, orders, [a for a in rest if a.kind == "notify"][:budget])
                write_batched(platform, self.settle, orders, batched, limit=limit,
                              stopping=self._stopping)
            else:
                write_marks(platform, self.settle, orders, [a for a in runnable if a.kind == "marks"], limit=limit,
                            stopping=self._stopping)
                rest = [a for a in runnable if a.kind != "marks"]
            blocked: set[tuple[int, str]] = set()
            for action in rest:
                if self.executed >= limit or self._stopping():
                    continue
                slot = slot_of(action)
                if slot in blocked:
                    continue
                if not self._run_one(platform, shop, orders[action.order_id], action):
                    blocked.add(slot)
        finally:
            platform.close()
        return self.executed

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _runnable(self, actions: list[Action]) -> list[Action]:
        """Per order and slot, the leading actions that are due. A waiting one holds back its successors,
        whose next attempt moves to its own so they stop counting as due (and stop being claimed)."""
        waiting: dict[tuple[int, str], datetime] = {}
        runnable: list[Action] = []
        held: list[tuple[int, datetime]] = []
        for action in actions:
            slot = slot_of(action)
            if slot in waiting:
                if action.next_attempt_at < waiting[slot]:
                    held.append((action.id, waiting[slot]))
                continue
            if action.next_attempt_at > self.now:
                waiting[slot] = action.next_attempt_at
                continue
            runnable.append(action)
        if held:
            self.held += len(held)
            with self.db.session() as session:
                for action_id, until in held:
                    session.execute(update(Action).where(Action.id == action_id).values(next_attempt_at=until))
        return runnable

    def _run_one(self, platform: Platform, shop: Shop, order: Order, action: Action) -> bool:
        """Execute one action; False when it failed (its slot then waits)."""
        if action.kind == "notify":
            return self._send_notice(platform, shop, order, action)
        if action.kind == CANCEL_KIND:
            return self._cancel(platform, order, action)
        try:
            write_one(platform, order.platform_id, action)
        except Exception as error:  # noqa: BLE001 - recorded on the row, retried or parked
            return self.settle.write(action, error)
        self.settle.done(action.id)
        return True

    def _cancel(self, platform: Platform, order: Order, action: Action) -> bool:
        """Refund and cancel through the store, then record it with the customer's confirmation in one
        transaction. A crash in between leaves the action pending: the next run's re-read finds the refund."""
        try:
            outcome = carry_out(platform, order.platform_id, action.payload or {})
        except UserError as error:  # the store or its payment gateway said no: the merchant settles it
            with self.db.session() as session:
                record_refused(session, action, error, self.worker_id)
            self.settle.executed += 1
            return False
        except Exception as error:  # noqa: BLE001 - transport trouble: retried; the re-read keeps it single
            self.settle.failed(action.id, error)
            return False
        with self.db.session() as session:
            record_done(session, action, outcome, self.worker_id)
        self.settle.executed += 1
        return True

    # -- notices -----------------------------------------------------------------------------------

    def _channel(self, shop: Shop, platform: Platform) -> Channel:
        if self.channel is None:
            self.channel = self.notifier(shop, platform)
        return self.channel

    def _prepare_notices(self, shop: Shop, orders: dict[int, Order], notices: list[Action]) -> None:
        """Let a platform that posts notices as store notes do their bookkeeping for all of them at once."""
        platform = self.platform
        if not notices or platform is None or platform.capabilities.write_batch_size <= 1:
            return
        try:
            channel = self._channel(shop, platform)
            if channel.name != PLATFORM_NOTE_CHANNEL:
                return
            cast(BatchWriting, platform).prepare_customer_notes(
                [(orders[a.order_id].platform_id, notice_ref(shop, orders[a.order_id], a)) for a in notices])
        except Exception as error:  # noqa: BLE001 - each notice then does its own bookkeeping
            log.warning("notice bookkeeping in bulk failed (%s); each notice does its own", describe(error))

    def _send_notice(self, platform: Platform, shop: Shop, order: Order, action: Action) -> bool:
        try:
            uses_store_note = platform.capabilities.customer_notes and not shop.setting("prefer_smtp", False)
            notice, rendered = build_notice(self.settings, shop, order, action, uses_store_note=bool(uses_store_note))
            channel = self._channel(shop, platform)
        except Exception as error:  # noqa: BLE001 - nothing was sent; recorded on the row
            self.settle.failed(action.id, error)
            return False
        with self.db.session() as session:
            row = session.get(Action, action.id)
            if row is None or row.status != "pending":
                return True
            row.status = "sending"
            row.started_at = utcnow()
            row.worker_id = self.worker_id
            row.attempts += 1
            row.channel = channel.name
            # What the customer receives, kept for the merchant's order page (the templates may change later).
            row.rendered = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html,
                            "language": rendered.language, "channel": channel.name, "to": notice.to_address}
        # Committed: from here on a crash leaves the row `sending`, which is never sent again on its own.
        try:
            receipt = channel.send(notice)
        except ConnectorError as error:
            # Channels raise ConnectorErrors only for notices they did not deliver (TransportError when
            # worth another try), so a retry cannot send it twice.
            self.settle.failed(action.id, error, counted=True)
            return False
        except Exception as error:  # noqa: BLE001 - unknown outcome: leave it for the operator
            with self.db.session() as session:
                row = session.get(Action, action.id)
                if row is not None:
                    row.last_error = f"{describe(error)}; the notice may or may not have gone out; {STUCK_HINT}"
            log.error("notice action %s failed with an unknown outcome; listed as stuck", action.id)
            return False
        with self.db.session() as session:
            row = session.get(Action, action.id)
            if row is not None:
                row.status = "sent"
                row.channel = receipt.channel
                row.receipt = receipt.reference[:500]
                row.finished_at = utcnow()
                row.last_error = "the channel already had this notice" if receipt.duplicate else None
        self.settle.executed += 1
        log.info("notice %s for order %s sent via %s", action.payload.get("notice"), order.id, receipt.channel)
        return True


def run_due_actions(
    services: Services,
    *,
    limit: int = 100,
    worker_id: str = "worker",
    notifier: NotifierFactory | None = None,
    retry: RetryPolicy | None = None,
    stop: Event | None = None,
    now: datetime | None = None,
) -> int:
    """Execute up to about `limit` due actions; returns how many were settled (done, retried or parked)."""
    settings: Settings = services.settings
    policy = retry or RetryPolicy(max_attempts=settings.worker_max_attempts)
    make_channel = notifier or default_notifier(settings)
    executed = passes = 0
    while executed < limit and not (stop is not None and stop.is_set()):
        moment = now or utcnow()
        claim = claim_orders(services.db, moment, min(CLAIM_GROUP, limit - executed))
        if claim is None:
            break
        try:
            runner = _Runner(services, claim, now=moment, worker_id=worker_id, retry=policy,
                             notifier=make_channel, stop=stop)
            done = runner.run(limit - executed)
        finally:
            claim.release()
        if done == 0 and runner.held == 0:
            break  # nothing runnable after all (another worker was quicker); the next pass looks again
        executed += done
        passes += 1
        if passes > limit:
            break
    return executed

