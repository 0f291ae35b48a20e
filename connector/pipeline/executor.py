"""Outbox executor: carries out queued actions through the shop's platform and sends customer notices.

How it works: work is claimed per ORDER, never per row, so two workers never write the same order at
once. On PostgreSQL a worker locks a group of one shop's orders that have due actions with
`FOR NO KEY UPDATE SKIP LOCKED`, on a connection of its own held open while it works; the actions'
results are committed on a second session one by one, so a crash loses at most the action in hand
(store writes read before they write, so doing one again is harmless). SQLite runs a single worker.

Within an order, actions run in the order they were planned, per slot (tag/untag, hold/release,
marks, note, notify): when one fails and waits for its retry, the later ones of its slot wait too, so
an untag never overtakes its tag. Of several due `marks` only the newest is written (the older ones are
`superseded`); marks of many orders are written in one `write_marks` call where the store allows.
A platform with `write_batch_size` takes the store writes (tag, marks, note, hold, release) of that many
orders per `write_batch` call, which reads them after the claim and gives each write its own outcome.

A notice is marked `sending` and committed before the send and `sent` (with channel and receipt)
after. A crash in between leaves it `sending`: it is never sent again automatically, only listed as
stuck for the operator (`connector actions list --stuck`), who settles it with `actions resolve`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from threading import Event
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.errors import (
    ConnectorError,
    InputError,
    NotFoundError,
    Skipped,
    TransportError,
    UserError,
)
from connector.notify import (
    Channel,
    NoticeContext,
    OutgoingNotice,
    Refund,
    RenderedNotice,
    choice_url,
    choose_channel,
    make_choice_token,
    message_id_for,
    render_notice,
)
from connector.notify.policy import DELAY_KINDS
from connector.pipeline.cancels import (
    CANCEL_KIND,
    carry_out,
    record_done,
    record_refused,
)
from connector.pipeline.outbox import (
    hold_from_payload,
    split_from_payload,
    marks_from_payload,
    notice_lines_from_payload,
)
from connector.pipeline.retry import (
    RetryPolicy,
    classify,
    describe,
    is_postgres,
    skip_locked,
)
from connector.platforms.base import (
    BACKORDER_TAG,
    BatchWriting,
    Platform,
    WriteKind,
    WriteOutcome,
    WriteRequest,
)
from connector.services import Services
from connector.settings import Settings
from connector.store.db import Database
from connector.store.models import Action, Order, Shop, utcnow

log = logging.getLogger(__name__)

NotifierFactory = Callable[[Shop, Platform], Channel]
CLAIM_GROUP = 25
SLOTS = {"tag": "tag", "untag": "tag", "hold": "hold", "release": "hold", "marks": "marks", "note": "note", "notify": "notify",
         "cancel": "cancel", "ship_ready": "hold"}
BATCHED_KINDS = frozenset({"tag", "untag", "marks", "note", "hold", "release"})
PLATFORM_NOTE_CHANNEL = "platform_note"
STUCK_HINT = "resolve with `connector actions resolve ID --sent` or `--retry` after checking whether the customer got it"


def default_notifier(settings: Settings) -> NotifierFactory:
    """The channel each shop's notices go through: store customer notes, SMTP, or .eml files."""

    def make(shop: Shop, platform: Platform) -> Channel:
        return choose_channel(
            platform,
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            outbox_dir=settings.outbox_dir,
            prefer_smtp=bool(shop.setting("prefer_smtp", False)),
        )

    return make


@dataclass
class _Claim:
    shop_id: int
    order_ids: list[int]
    lock: Session | None  # PostgreSQL: holds the order locks until released

    def release(self) -> None:
        if self.lock is not None:
            self.lock.rollback()
            self.lock.close()


def _due(now: datetime) -> Any:
    # A shop the operator paused keeps its actions pending until it is enabled again.
    paused = select(Shop.id).where(Shop.disabled_at.is_not(None))
    return (Action.status == "pending") & (Action.next_attempt_at <= now) & Action.shop_id.not_in(paused)


def _claim_orders(db: Database, now: datetime, group: int) -> _Claim | None:
    """Lock up to `group` orders of one shop that have due actions; None when there are none free."""
    lock = db.sessions()
    try:
        shop_ids = lock.scalars(select(Action.shop_id).where(_due(now)).distinct().limit(50)).all()
        for shop_id in shop_ids:
            statement = (
                select(Order.id)
                .where(Order.shop_id == shop_id, Order.id.in_(select(Action.order_id).where(_due(now))))
                .order_by(Order.id)
                .limit(group)
            )
            order_ids = list(lock.scalars(skip_locked(lock, statement, no_key=True)).all())
            if order_ids:
                if is_postgres(lock):
                    return _Claim(shop_id, order_ids, lock)
                lock.close()
                return _Claim(shop_id, order_ids, None)
    except BaseException:
        lock.rollback()
        lock.close()
        raise
    lock.rollback()
    lock.close()
    return None


class _Runner:
    """Executes the actions of one claim and records each result as soon as it is known."""

    def __init__(self, services: Services, claim: _Claim, *, now: datetime, worker_id: str, retry: RetryPolicy,
                 notifier: NotifierFactory, stop: Event | None) -> None:
        self.services = services
        self.db: Database = services.db
        self.settings: Settings = services.settings
        self.claim = claim
        self.now = now
        self.worker_id = worker_id
        self.retry = retry
        self.notifier = notifier
        self.stop = stop
        self.executed = 0
        self.held = 0  # actions pushed back behind a waiting predecessor
        self.platform: Platform | None = None
        self.channel: Channel | None = None

    # -- recording ---------------------------------------------------------------------------------

    def _done(self, action_id: int, *, status: str = "done", note: str | None = None) -> None:
        with self.db.session() as session:
            action = session.get(Action, action_id)
            if action is None or action.status not in ("pending", "sending"):
                return
            action.status = status
            action.finished_at = utcnow()
            action.worker_id = self.worker_id
            action.last_error = note
        self.executed += 1

    def _failed(self, action_id: int, error: BaseException, *, counted: bool = False) -> None:
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

    # -- running -----------------------------------------------------------------------------------

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
                self._failed(action.id, InputError(f"shop {self.claim.shop_id}", "the shop is uninstalled or gone"))
            return self.executed
        try:
            self.platform = self.services.platform_for(shop)
        except Exception as error:  # noqa: BLE001 - e.g. credentials gone: recorded on every action
            for action in runnable[:limit]:
                self._failed(action.id, error)
            return self.executed
        try:
            if self.platform.capabilities.write_batch_size > 1:
                batched, rest = _split_batched(runnable)
                # Announced first, so a platform can record the notices' bookkeeping with the writes.
                # Only the notices this run will reach after the writes: an announced one left unsent
                # would cost its next run a look at the store.
                budget = max(0, limit - self.executed - len(batched))
                self._prepare_notices(shop, orders, [a for a in rest if a.kind == "notify"][:budget])
                self._write_batched(orders, batched, limit)
            else:
                self._write_marks(shop, orders, [a for a in runnable if a.kind == "marks"], limit)
                rest = [a for a in runnable if a.kind != "marks"]
            blocked: set[tuple[int, str]] = set()
            for action in rest:
                if self.executed >= limit or self._stopping():
                    continue
                slot = (action.order_id, SLOTS[action.kind])
                if slot in blocked:
                    continue
                if not self._run_one(shop, orders[action.order_id], action):
                    blocked.add(slot)
        finally:
            self.platform.close()
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
            slot = (action.order_id, SLOTS.get(action.kind, action.kind))
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

    def _write_marks(self, shop: Shop, orders: dict[int, Order], marks: list[Action], limit: int) -> None:
        assert self.platform is not None
        newest: dict[int, Action] = {}
        for action in marks:
            previous = newest.get(action.order_id)
            if previous is not None:
                self._done(previous.id, status="superseded", note=f"superseded by action {action.id}")
            newest[action.order_id] = action
        size = max(1, self.platform.capabilities.marks_batch_size)
        batch = list(newest.values())
        for start in range(0, len(batch), size):
            if self.executed >= limit or self._stopping():
                return
            chunk = batch[start : start + size]
            items = [(orders[a.order_id].platform_id, marks_from_payload(a.payload)) for a in chunk]
            try:
                self.platform.write_marks(items)
            except Skipped as why:
                for action in chunk:
                    self._done(action.id, status="done" if why.partly_done else "skipped", note=why.reason)
                continue
            except Exception as error:  # noqa: BLE001 - every failure is recorded on the rows
                for action in chunk:
                    self._failed(action.id, error)
                continue
            for action in chunk:
                self._done(action.id)

    def _write_batched(self, orders: dict[int, Order], actions: list[Action], limit: int) -> None:
        """The store writes of many orders in few requests. Per order and slot only the leading action
        goes into a round (an untag never shares a request with the tag before it); of several marks
        only the newest is written. A request that fails as a whole settles nothing: each of its
        actions is retried under the policy."""
        platform = cast(BatchWriting, self.platform)
        newest: dict[int, Action] = {}
        pending: list[Action] = []
        for action in actions:
            if action.kind == "marks":
                previous = newest.get(action.order_id)
                if previous is not None:
                    self._done(previous.id, status="superseded", note=f"superseded by action {action.id}")
                    pending.remove(previous)
                newest[action.order_id] = action
            pending.append(action)
        size = max(1, platform_batch_size(self.platform))
        blocked: set[tuple[int, str]] = set()
        while pending and self.executed < limit and not self._stopping():
            leading: list[Action] = []
            later: list[Action] = []
            taken: set[tuple[int, str]] = set()
            for action in pending:
                slot = (action.order_id, SLOTS[action.kind])
                if slot in blocked:
                    continue  # waits for its failed predecessor's retry
                (later if slot in taken else leading).append(action)
                taken.add(slot)
            if not leading:
                return
            order_ids = list(dict.fromkeys(action.order_id for action in leading))
            for start in range(0, len(order_ids), size):
                if self.executed >= limit or self._stopping():
                    return
                chosen = set(order_ids[start : start + size])
                chunk = [action for action in leading if action.order_id in chosen]
                try:
                    outcomes = platform.write_batch([write_request(orders[a.order_id].platform_id, a) for a in chunk])
                except Exception as error:  # noqa: BLE001 - the whole request failed: nothing of it is settled
                    for action in chunk:
                        self._failed(action.id, error)
                        blocked.add((action.order_id, SLOTS[action.kind]))
                    continue
                for action in chunk:
                    outcome = outcomes.get(action.id, TransportError("the store gave no answer for this write"))
                    if not self._settle_write(action, outcome):
                        blocked.add((action.order_id, SLOTS[action.kind]))
            pending = later

    def _settle_write(self, action: Action, outcome: WriteOutcome) -> bool:
        """Record a store write's outcome; False when it failed (its slot then waits)."""
        if isinstance(outcome, Skipped):
            # Not the store's to give (a scope not granted, no HOLD offered): recorded, never retried.
            self._done(action.id, status="done" if outcome.partly_done else "skipped", note=outcome.reason)
            return True
        if isinstance(outcome, NotFoundError):
            self._done(action.id, note=f"order not found in the store, nothing written: {outcome}")
            return True
        if isinstance(outcome, Exception):
            self._failed(action.id, outcome)
            return False
        self._done(action.id)
        return True

    def _prepare_notices(self, shop: Shop, orders: dict[int, Order], notices: list[Action]) -> None:
        """Let a platform that posts notices as store notes do their bookkeeping for all of them at once."""
        if not notices or self.platform is None or self.platform.capabilities.write_batch_size <= 1:
            return
        try:
            channel = self._channel(shop)
            if channel.name != PLATFORM_NOTE_CHANNEL:
                return
            cast(BatchWriting, self.platform).prepare_customer_notes(
                [(orders[a.order_id].platform_id, notice_ref(shop, orders[a.order_id], a)) for a in notices])
        except Exception as error:  # noqa: BLE001 - each notice then does its own bookkeeping
            log.warning("notice bookkeeping in bulk failed (%s); each notice does its own", describe(error))

    def _channel(self, shop: Shop) -> Channel:
        if self.channel is None:
            assert self.platform is not None
            self.channel = self.notifier(shop, self.platform)
        return self.channel

    def _run_one(self, shop: Shop, order: Order, action: Action) -> bool:
        """Execute one action; False when it failed (its slot then waits)."""
        if action.kind == "notify":
            return self._send_notice(shop, order, action)
        if action.kind == CANCEL_KIND:
            return self._cancel(order, action)
        assert self.platform is not None
        try:
            self._write(order.platform_id, action)
        except Exception as error:  # noqa: BLE001 - recorded on the row, retried or parked
            return self._settle_write(action, error)
        self._done(action.id)
        return True

    def _write(self, order_ref: str, action: Action) -> None:
        platform = self.platform
        assert platform is not None
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

    def _cancel(self, order: Order, action: Action) -> bool:
        """Refund and cancel through the store, then record it with the customer's confirmation in one
        transaction. A crash in between leaves the action pending: the next run's re-read finds the refund."""
        assert self.platform is not None
        try:
            outcome = carry_out(self.platform, order.platform_id, action.payload or {})
        except UserError as error:  # the store or its payment gateway said no: the merchant settles it
            with self.db.session() as session:
                record_refused(session, action, error, self.worker_id)
            self.executed += 1
            return False
        except Exception as error:  # noqa: BLE001 - transport trouble: retried; the re-read keeps it single
            self._failed(action.id, error)
            return False
        with self.db.session() as session:
            record_done(session, action, outcome, self.worker_id)
        self.executed += 1
        return True

    # -- notices -----------------------------------------------------------------------------------

    def _send_notice(self, shop: Shop, order: Order, action: Action) -> bool:
        try:
            notice, rendered = self._build_notice(shop, order, action)
            channel = self._channel(shop)
        except Exception as error:  # noqa: BLE001 - nothing was sent; recorded on the row
            self._failed(action.id, error)
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
            self._failed(action.id, error, counted=True)
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
        self.executed += 1
        log.info("notice %s for order %s sent via %s", action.payload.get("notice"), order.id, receipt.channel)
        return True

    def _build_notice(self, shop: Shop, order: Order, action: Action) -> tuple[OutgoingNotice, RenderedNotice]:
        payload = action.payload or {}
        kind = payload["notice"]
        ref = notice_ref(shop, order, action)
        link = None
        if kind in DELAY_KINDS:
            secret = self.settings.connector_secret_key or ""
            link = choice_url(self.settings.app_url, make_choice_token(secret, shop.id, order.id, ref))
        context = notice_context(shop, order, payload, choice_link=link)
        rendered = render_notice(kind, context, locale=order.locale, override_dir=templates_dir_for(shop, self.settings))
        uses_store_note = bool(self.platform and self.platform.capabilities.customer_notes and not shop.setting("prefer_smtp", False))
        if not order.customer_email and not uses_store_note:
            raise InputError(f"order {order.name}", "has no customer email address (never given, or erased)")
        return OutgoingNotice(
            to_address=order.customer_email or "",
            to_name=order.customer_name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id_for(ref, self.settings.mail_from),
            ref=ref,
            order_platform_id=order.platform_id,
            from_name=shop.label,
        ), rendered


def _split_batched(runnable: list[Action]) -> tuple[list[Action], list[Action]]:
    """The store writes that can go in batches, and the rest (run one by one, in order). A write whose
    slot holds an earlier action of another kind (a ship-what's-ready before a hold) stays with the
    rest, so it never overtakes that action."""
    batched: list[Action] = []
    rest: list[Action] = []
    single_slots: set[tuple[int, str]] = set()
    for action in runnable:
        slot = (action.order_id, SLOTS.get(action.kind, action.kind))
        if action.kind in BATCHED_KINDS and slot not in single_slots:
            batched.append(action)
        else:
            single_slots.add(slot)
            rest.append(action)
    return batched, rest


def notice_ref(shop: Shop, order: Order, action: Action) -> str:
    """A notice's reference, unique across shops and orders: it names the .eml file and the Message-ID."""
    return f"{shop.id}-{order.id}-{(action.payload or {})['ref']}"


def platform_batch_size(platform: Platform | None) -> int:
    return platform.capabilities.write_batch_size if platform is not None else 0


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


def notice_context(shop: Shop, order: Order, payload: dict[str, Any], *, choice_link: str | None) -> NoticeContext:
    """What a notice (or the choice page) shows for `order`, from a notify action's payload."""
    eta = payload.get("eta")
    previous = payload.get("previous_eta")
    return NoticeContext(
        order_name=order.name,
        store_name=shop.label,
        lines=notice_lines_from_payload(payload.get("lines", [])),
        order_eta=datetime.fromisoformat(eta).date() if eta else None,
        order_eta_earliest=_day(payload.get("eta_earliest")),
        order_eta_latest=_day(payload.get("eta_latest")),
        customer_first_name=order.customer_first_name,
        choice_url=choice_link,
        previous_eta=datetime.fromisoformat(previous).date() if previous else None,
        answer_by=_day(payload.get("answer_by")),
        ships_now=notice_lines_from_payload(payload.get("ships_now", [])),
        refund=Refund(str(payload["refund_amount"]), str(payload.get("currency") or ""),
                      _day(payload.get("refund_by")), bool(payload.get("whole_order")))
        if payload.get("refund_amount") is not None else None,
    )


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def templates_dir_for(shop: Shop, settings: Settings) -> Path | None:
    """The folder of notice templates that override the shipped ones for `shop` (its own, else TEMPLATES_DIR)."""
    folder = shop.setting("templates_dir", None) or settings.templates_dir
    return Path(folder) if folder else None


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
        claim = _claim_orders(services.db, moment, min(CLAIM_GROUP, limit - executed))
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

