"""Inbox processing: applies stored webhook deliveries to the database, each exactly once in effect.

How it works: a worker claims one pending, due delivery at a time (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent workers take different rows) and, in that same transaction, applies it and
marks it `done`: the effect and the bookkeeping commit together or not at all, so a crash just leaves
the delivery pending for the next worker. The shop's platform reads the delivery into an `Event`
(`PlatformKind.event_from_delivery`), and the event's kind chooses the effect: orders are
upserted (an older `updated_at` never overwrites a newer one, and the order's row lock serialises two
deliveries for one order), stock changes schedule an immediate sync of the shop, uninstalls drop the
tokens, and the GDPR topics erase data (`pipeline/gdpr.py`). Unknown topics are settled with a note;
a malformed body is parked as `dead` at once; other failures are retried with backoff, then parked.
After a batch, each shop that changed is reconciled and its actions queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import threading

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.errors import ConfigError
from connector.pipeline.gdpr import erase_shop, redact_customer
from connector.pipeline.retry import RetryPolicy, classify, describe, skip_locked
from connector.pipeline.scheduler import (
    FULL_SYNC,
    RECONCILE,
    SYNC,
    mark_due,
    mark_reconcile,
    run_due_jobs,
    shop_target,
)
from connector.platforms import kind_of
from connector.platforms.inbound import Event, EventKind
from connector.services import Services
from connector.store.db import rows_changed
from connector.store.exports import record_export_finished
from connector.store.models import InboxItem, InventoryLevel, Order, Shop, WebhookSubscription, utcnow
from connector.store.repo import upsert_order

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying a delivery did: the shop to reconcile, a note for the operator, or that the
    delivery itself was erased (shop/redact)."""

    reconcile_shop: int | None = None
    note: str | None = None
    erased: bool = False
    personal_data_erased: bool = False  # then SQLite's write-ahead log is emptied of the old pages


Effect = Callable[[Services, Session, InboxItem, Shop, Event], Outcome]


def _shop_for(session: Session, item: InboxItem) -> Shop | None:
    if item.shop_id is not None:
        return session.get(Shop, item.shop_id)
    return session.scalar(select(Shop).where(Shop.platform == item.platform, Shop.domain == item.shop_domain))


def _attribute(session: Session, item: InboxItem) -> None:
    """Give a delivery stored under its domain alone (every Shopify one: see webhooks/shopify.py) its shop's id.

    Done outside the delivery's own transaction, so a delivery that fails still belongs to its shop: the
    merchant sees it, and erasing the shop erases it. In a savepoint of its own: a shop erased since it was
    looked up fails the foreign key, and the delivery then stays unattributed (applying it finds no shop)."""
    if item.shop_id is None:
        shop = _shop_for(session, item)
        if shop is not None:
            try:
                with session.begin_nested():
                    item.shop_id = shop.id
            except IntegrityError:
                log.info("delivery %s: shop %s was erased before it could be attributed", item.id, shop.id)


# --- what each event does ------------------------------------------------------------------------


def _order_changed(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    assert event.order is not None
    stored = upsert_order(session, shop.id, event.order)
    return Outcome(shop.id if stored else None, None if stored else "older than the stored order; ignored")


def _order_deleted(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    order = session.scalar(
        select(Order).where(Order.shop_id == shop.id, Order.platform_id == event.order_id).with_for_update()
    )
    if order is None:
        return Outcome(note="deleted order was never stored")
    order.is_open = False
    order.status = "trash"
    # A delayed update older than the deletion must not reopen it.
    order.updated_at = max(order.updated_at, item.received_at)
    return Outcome(shop.id)


def _stock_changed(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    """Stock moved: the sellable quantity needs every location's levels, so the shop's stock is
    re-read by an immediate sync rather than patched from one webhook's numbers."""
    sku = None
    if event.item_ref is not None:
        sku = session.scalar(
            select(InventoryLevel.sku).where(InventoryLevel.shop_id == shop.id, InventoryLevel.item_ref == event.item_ref).limit(1)
        )
    mark_due(session, SYNC, shop_target(shop.id))
    return Outcome(note=f"stock refresh scheduled (sku {sku or 'not yet known'})")


def _uninstalled(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    shop.credentials = None  # every token goes; a reinstall brings new ones
    shop.token_expires_at = None
    shop.active = False
    shop.uninstalled_at = utcnow()
    session.execute(delete(WebhookSubscription).where(WebhookSubscription.shop_id == shop.id))
    return Outcome(note="app uninstalled: tokens deleted, shop inactive")


def _customer_redact(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    summary = redact_customer(
        session,
        shop,
        customer_id=event.customer_id,
        email=event.email,
        order_ids=list(event.order_ids),
        outbox_dir=services.settings.outbox_dir,
    )
    return Outcome(note=summary.line(), personal_data_erased=True)


def _shop_redact(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    erase_shop(session, shop, outbox_dir=services.settings.outbox_dir)
    return Outcome(erased=True, personal_data_erased=True)


def _data_request(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    note = (
        f"customer data request (customer id {event.customer_id}, {len(event.order_ids)} orders): the merchant must "
        "answer it; the request is kept here"
    )
    log.warning("shop %s: %s", shop.id, note)
    return Outcome(note=note)


def _bulk_finished(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    """An export finished: recorded on it, so a sync waiting on it reads it at once, and one that died
    while waiting is replaced by a full sync that adopts this export (the same code as polling)."""
    operation, status = event.bulk_operation or "", (event.bulk_status or "").upper()
    export = record_export_finished(session, shop.id, operation, status, event.bulk_error)
    if export is None:
        return Outcome(note=f"bulk operation {operation} ({status.lower()}) is not one the connector started")
    if export.consumed_at is not None:
        return Outcome(note=f"bulk operation {operation} ({status.lower()}): already read")
    mark_due(session, FULL_SYNC, shop_target(shop.id))
    return Outcome(note=f"bulk operation {operation} {status.lower()}: a full sync will read it")


def _test_delivery(services: Services, session: Session, item: InboxItem, shop: Shop, event: Event) -> Outcome:
    return Outcome(note="the connector's own test delivery, sent before re-enabling a disabled webhook")


def _body_omitted(session: Session, item: InboxItem, shop: Shop) -> Outcome:
    """A delivery over the body limit, recorded without its body: a sync fetches what it announced."""
    mark_due(session, SYNC, shop_target(shop.id))
    return Outcome(note=f"the body ({item.body_omitted} bytes) was over the limit and not stored; "
                        "a sync is scheduled to fetch the order")


# Every platform's deliveries end here: the platform says what a delivery means, this says what it does.
EFFECTS: dict[EventKind, Effect] = {
    EventKind.ORDER_CHANGED: _order_changed,
    EventKind.ORDER_DELETED: _order_deleted,
    EventKind.STOCK_CHANGED: _stock_changed,
    EventKind.UNINSTALLED: _uninstalled,
    EventKind.CUSTOMER_REDACT: _customer_redact,
    EventKind.SHOP_REDACT: _shop_redact,
    EventKind.DATA_REQUEST: _data_request,
    EventKind.BULK_FINISHED: _bulk_finished,
    EventKind.TEST: _test_delivery,
}


def apply_delivery(services: Services, session: Session, item: InboxItem) -> Outcome:
    """Apply one delivery in the caller's transaction."""
    try:
        kind = kind_of(item.platform)
    except ConfigError:
        return Outcome(note=f"no platform {item.platform!r}; settled without effect")
    if item.topic not in kind.topic_events:
        return Outcome(note=f"no handler for topic {item.topic!r}; settled without effect")
    shop = _shop_for(session, item)
    if shop is None:
        return Outcome(note=f"no shop {item.shop_domain!r} is installed; settled without effect")
    if item.body_omitted is not None:
        return _body_omitted(session, item, shop)
    event = kind.event_from_delivery(item.topic, item.body, f"delivery {item.id}")
    return EFFECTS[event.kind](services, session, item, shop, event)


# --- the loop ------------------------------------------------------------------------------------


def _claim_statement(now: datetime) -> Select[tuple[InboxItem]]:
    return (
        select(InboxItem)
        .where(InboxItem.status == "pending", InboxItem.next_attempt_at <= now)
        .order_by(InboxItem.next_attempt_at, InboxItem.id)
        .limit(1)
    )


def process_one(services: Services, *, retry: RetryPolicy, worker_id: str, now: datetime | None = None) -> tuple[bool, int | None]:
    """Claim and apply one due delivery; returns (whether one was found, the shop to reconcile)."""
    with services.db.session() as session:
        item = session.scalar(skip_locked(session, _claim_statement(now or utcnow())))
        if item is None:
            return False, None
        item_id, topic = item.id, item.topic
        _attribute(session, item)
        try:
            with session.begin_nested():
                outcome = apply_delivery(services, session, item)
        except Exception as error:  # noqa: BLE001 - every failure is recorded on the delivery
            item.attempts += 1
            item.last_error = describe(error)
            retry_at = retry.next_attempt(item.attempts, utcnow(), error) if classify(error) == "retry" else None
            if retry_at is None:
                item.status = "dead"
                log.warning("delivery %s (%s) is dead: %s", item_id, topic, item.last_error)
            else:
                item.next_attempt_at = retry_at
            return True, None
        if not outcome.erased:
            item.status = "done"
            item.attempts += 1
            item.processed_at = utcnow()
            item.note = outcome.note
            item.last_error = None
            if outcome.reconcile_shop is not None:
                mark_reconcile(session, outcome.reconcile_shop)
    if outcome.personal_data_erased:
        services.db.purge_deleted_pages()
    log.info("delivery %s processed by %s (%s)", item_id, worker_id, topic)
    return True, outcome.reconcile_shop


def process_due_deliveries(
    services: Services,
    *,
    limit: int = 100,
    worker_id: str = "worker",
    retry: RetryPolicy | None = None,
    stop: threading.Event | None = None,
    reconcile: bool = True,
) -> int:
    """Apply up to `limit` due deliveries, then reconcile the shops they changed; returns how many."""
    policy = retry or RetryPolicy(max_attempts=services.settings.worker_max_attempts)
    count = 0
    touched: set[int] = set()
    while count < limit and not (stop is not None and stop.is_set()):
        found, shop_id = process_one(services, retry=policy, worker_id=worker_id)
        if not found:
            break
        count += 1
        if shop_id is not None:
            touched.add(shop_id)
    if reconcile and touched:
        run_due_jobs(services, kinds=(RECONCILE,), targets=[shop_target(s) for s in sorted(touched)], stop=stop)
    return count


def replay(session: Session, *, delivery_id: int | None = None, all_dead: bool = False) -> int:
    """Queue deliveries to run again now (one by id, or every dead one); returns how many."""
    statement = update(InboxItem).values(status="pending", attempts=0, next_attempt_at=utcnow(), last_error=None)
    if delivery_id is not None:
        statement = statement.where(InboxItem.id == delivery_id)
    elif all_dead:
        statement = statement.where(InboxItem.status == "dead")
    else:
        raise ValueError("name a delivery id or all_dead")
    return rows_changed(session, statement)
