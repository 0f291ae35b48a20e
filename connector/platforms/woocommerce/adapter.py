"""WooCommerce behind the platform-neutral `Platform` interface: order and stock sync, write-back, webhooks."""

from __future__ import annotations

import html
import json
import logging
import re
import secrets as secrets_module
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import NotFoundError, TransportError, UserError
from connector.platforms.base import (
    line_entry,
    AccessReport,
    CancelOutcome,
    CancelRequest,
    HoldRequest,
    OrderMarks,
    ReadySplit,
    RemoteOrder,
    ShopProfile,
    StockRecord,
    StorefrontEta,
    WebhookInfo,
    WriteOutcome,
    WriteRequest,
)
from connector.platforms.woocommerce import storefront
from connector.platforms.woocommerce.client import PER_PAGE, WooClient
from connector.platforms.woocommerce.kind import BATCH_LIMIT, WooKind
from connector.platforms.woocommerce.payloads import order_from_rest
from connector.platforms.woocommerce.refunds import cancel_units, refunded_quantities
from connector.platforms.woocommerce.webhook_check import send_test_delivery

log = logging.getLogger(__name__)

META_STATUS = "_backorder_status"
META_ETA = "_backorder_eta"
META_ETA_EARLIEST, META_ETA_LATEST = "_backorder_eta_earliest", "_backorder_eta_latest"
META_LINES = "_backorder_lines"
NOTE_HEADER = "[Backorder connector]"
# The merchant's note is order meta, written in the same batch request as the marks. No leading
# underscore, so the order screen lists it under Custom Fields; an order note would cost a request each.
META_NOTE = "backorder_note"
META_NOTICES = "_backorder_notices"  # {notice reference: store time it was first about to be posted}
NOTICES_KEPT = 50
_GONE_CODES = frozenset({"woocommerce_rest_shop_order_invalid_id", "woocommerce_rest_order_invalid_id"})


class BatchWriteError(UserError):
    """Some orders of a batch write were refused; the others were written (see `changed`)."""

    def __init__(self, failed: dict[str, str], changed: dict[str, bool]) -> None:
        self.failed = failed
        self.changed = changed
        super().__init__([f"order {order_id}: {reason}" for order_id, reason in failed.items()], status=400)


def marks_meta(marks: OrderMarks) -> dict[str, str]:
    """The order meta values that show `marks`; an empty ETA string means no date is known."""
    lines = [line_entry(line) for line in marks.lines]
    meta = {
        META_STATUS: marks.status,
        META_ETA: marks.eta.isoformat() if marks.eta else "",
        META_LINES: json.dumps(lines, separators=(",", ":"), sort_keys=True),
    }
    if marks.ranged and marks.eta_earliest and marks.eta_latest:  # only while there is a range
        meta[META_ETA_EARLIEST], meta[META_ETA_LATEST] = marks.eta_earliest.isoformat(), marks.eta_latest.isoformat()
    return meta


class WooPlatform(WooKind):
    """One WooCommerce store as a `Platform`.

    WooCommerce has no order tags and no per-line fulfilment holds, so `add_tag`, `remove_tag`,
    `hold` and `release` do nothing and return False without a request; the decision is shown
    through order meta and notes instead. Customer notes are emailed by WooCommerce itself.
    """

    def __init__(self, client: WooClient) -> None:
        self.client = client
        # Notice references recorded by `prepare_customer_notes` in this platform's life (one claim):
        # order id -> {reference: store time}, so each note then costs only its own POST.
        self._prepared: dict[str, dict[str, str]] = {}
        # Announced by `prepare_customer_notes`, not yet in the store: order id -> (meta value, new references).
        self._announced: dict[str, tuple[str, list[str]]] = {}
        self._meta: dict[str, dict[str, Any] | None] = {}  # orders' meta as read in this life, with our writes
        self._eta_writer = storefront.EtaWriter(client)

    def __repr__(self) -> str:
        return f"WooPlatform({self.client!r})"

    def close(self) -> None:
        self.forget_reads()
        self.client.close()

    def forget_reads(self) -> None:
        """Drop what this platform read and announced: the executor's next claim reads afresh (it closes
        its platform after each claim, which calls this)."""
        self._meta.clear()
        self._announced.clear()
        self._prepared.clear()

    def shop_profile(self) -> ShopProfile:
        """One authenticated read proves the key (WooCommerce's own reason when it is refused); the
        site title comes from the WordPress REST index."""
        self.client.get("orders", {"per_page": 1, "_fields": "id"})
        index = self.client.site_index()
        name = html.unescape(str(index.get("name") or "")).strip() if isinstance(index, dict) else ""
        return ShopProfile(name=name)

    # Orders -----------------------------------------------------------------------------------

    def iter_all_orders(self) -> Iterator[RemoteOrder]:
        """Every order; WooCommerce has no bulk export, so this pages through them all."""
        return self.iter_orders(None)

    def iter_orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        """Orders modified at or after `updated_since`, every status (so cancellations are seen).

        Pages are walked by keyset rather than page number: after each full page the next request
        starts one second before the newest modification seen, so orders modified while we read
        (which move to the end of the list) cannot shift unread ones onto pages already read.
        Orders seen twice in the overlap are yielded once. Page numbers are used only when more
        than a page of orders share the same second.
        """
        after = _utc(updated_since) - timedelta(seconds=1) if updated_since else None  # the API is strictly after
        page = 1
        seen: set[tuple[str, datetime]] = set()
        while True:
            params: dict[str, Any] = {"dates_are_gmt": "true", "orderby": "modified", "order": "asc"}
            if after is not None:
                params["modified_after"] = after.strftime("%Y-%m-%dT%H:%M:%S")
            items, total_pages = self.client.get_page("orders", params, page)
            newest: datetime | None = None
            for raw in items:
                order = order_from_rest(self._less_refunded(raw))
                newest = order.updated_at if newest is None else max(newest, order.updated_at)
                key = (order.platform_id, order.updated_at)
                if key not in seen:
                    seen.add(key)
                    yield order
            if newest is None or len(items) < PER_PAGE or (total_pages is not None and page >= total_pages):
                return
            candidate = _utc(newest).replace(microsecond=0) - timedelta(seconds=1)
            if after is None or candidate > after:
                after, page = candidate, 1
            else:
                page += 1

    def _less_refunded(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The order with refunded units taken off its lines: WooCommerce keeps a line's quantity and records
        refunds apart, so an order with refunds costs one more read (`/orders/<id>/refunds`)."""
        if not raw.get("refunds"):
            return raw
        done = refunded_quantities(list(self.client.paginate(f"orders/{int(raw['id'])}/refunds")))
        lines = [dict(item, quantity=max(0, int(item.get("quantity") or 0) - done.get(str(item["id"]), 0)))
                 for item in raw.get("line_items") or []]
        return dict(raw, line_items=lines)

    def get_order(self, order_id: str) -> RemoteOrder | None:
        try:
            return order_from_rest(self._less_refunded(self.client.get(f"orders/{int(order_id)}")))
        except NotFoundError:
            return None

    # Stock ------------------------------------------------------------------------------------

    def iter_stock(self) -> Iterator[StockRecord]:
        """Raw `stock_quantity` of every simple product and variation, one pool ("default").

        A variation whose `manage_stock` is "parent" has no stock of its own: WooCommerce takes its
        sales off the parent's quantity. It is reported under its own SKU with the parent's
        quantity and tracking and with `item_ref` set to the parent id, so every record with that
        `item_ref` is ONE shared pool; consumers must not add those quantities up. Other records
        carry their own product or variation id. Variable parents, grouped and external products
        are not sold as themselves and are skipped. Units WooCommerce already took off for open
        orders (`_reduced_stock`) are added back later by reconcile, not here.
        """
        emitted: dict[str, str | None] = {}
        for product in self.client.paginate("products"):
            kind = product.get("type")
            if kind in ("grouped", "external"):
                continue
            records = self._variation_stock(product) if kind == "variable" else [_stock(product, product)]
            for record in records:
                if record is None:
                    continue
                if record.sku in emitted:
                    if emitted[record.sku] != record.item_ref:
                        log.warning("SKU %s is used by more than one stock pool; reporting only the first", record.sku)
                    continue
                emitted[record.sku] = record.item_ref
                yield record

    def _variation_stock(self, parent: dict[str, Any]) -> Iterator[StockRecord | None]:
        for variation in self.client.paginate(f"products/{int(parent['id'])}/variations"):
            # A variation whose stock the parent manages draws on the parent's units (one pool).
            holder = parent if variation.get("manage_stock") == "parent" else variation
            yield _stock(holder, variation, parent)

    # Write-back -------------------------------------------------------------------------------

    def write_marks(self, items: Iterable[tuple[str, OrderMarks]]) -> dict[str, bool]:
        """Write the `_backorder_*` meta of each order whose current meta differs.

        Current meta is read in batches (`include=`); one changed order is written with a PUT,
        several with `POST /orders/batch` of at most 100 updates each. Orders the store no longer
        has come back False. If the store refuses some orders of a batch the rest are still
        written and a `BatchWriteError` listing the refused ones (with `.changed`) is raised.
        """
        wanted = {str(int(order_id)): marks_meta(marks) for order_id, marks in items}
        result = {order_id: False for order_id in wanted}
        current = self._current_meta(list(wanted))
        updates: list[dict[str, Any]] = []
        for order_id, meta in wanted.items():
            if order_id not in current:
                log.warning("order %s is gone; marks not written", order_id)
                continue
            for key in (META_ETA_EARLIEST, META_ETA_LATEST):
                if key not in meta and current[order_id].get(key):
                    meta[key] = ""  # the range is gone: clear it
            if all(current[order_id].get(key) == value for key, value in meta.items()):
                continue
            updates.append({"id": int(order_id), "meta_data": [{"key": k, "value": v} for k, v in meta.items()]})
        if len(updates) == 1:
            update = updates[0]
            try:
                self.client.put(f"orders/{update['id']}", {"meta_data": update["meta_data"]})
                result[str(update["id"])] = True
            except NotFoundError:
                log.warning("order %s vanished before its marks were written", update["id"])
            return result
        failed: dict[str, str] = {}
        for start in range(0, len(updates), BATCH_LIMIT):
            answer = self.client.post("orders/batch", {"update": updates[start : start + BATCH_LIMIT]})
            for entry in (answer or {}).get("update", []):
                order_id = str(entry.get("id"))
                error = entry.get("error")
                if not error:
                    result[order_id] = True
                elif error.get("code") in _GONE_CODES:
                    log.warning("order %s vanished before its marks were written", order_id)
                else:
                    failed[order_id] = f"{error.get('code')}: {error.get('message')}"
        if failed:
            raise BatchWriteError(failed, result)
        return result

    def _current_meta(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(order_ids), PER_PAGE):
            chunk = order_ids[start : start + PER_PAGE]
            for order in self.client.paginate("orders", {"include": chunk, "_fields": "id,meta_data"}):
                meta = {entry.get("key"): entry.get("value") for entry in order.get("meta_data") or []}
                found[str(order["id"])] = meta
        return found

    def prepare_storefront(self) -> None:
        """Nothing to prepare: the plugin reads plain product meta."""

    def write_storefront_etas(self, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
        return self._eta_writer.write(items)

    def write_note(self, order_id: str, text: str) -> bool:
        """Set the order meta `backorder_note` to `text` (headed `[Backorder connector]`) unless it says that already."""
        outcome = self.write_batch([WriteRequest(0, order_id, "note", text=text)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _meta_of(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Current meta of these orders: read (`include=`) once in this platform's life (one claim, so
        after the claim), then kept up to date with what it writes."""
        missing = [order_id for order_id in order_ids if order_id not in self._meta]
        if missing:
            found = self._current_meta(missing)
            for order_id in missing:
                self._meta[order_id] = found.get(order_id)
        return {order_id: meta for order_id in order_ids if (meta := self._meta.get(order_id)) is not None}

    def write_batch(self, requests: Sequence[WriteRequest]) -> dict[int, WriteOutcome]:
        """Marks and notes of up to 100 orders: their meta read in one request (`include=`), what
        differs written in one `POST /orders/batch`, together with the references of the notices
        `prepare_customer_notes` announced. Tags and holds do nothing (False, no request). An order the
        store no longer has gets NotFoundError; one the batch refuses, its own UserError."""
        outcomes: dict[int, WriteOutcome] = {}
        wanted: dict[str, dict[str, str]] = {}
        for request in requests:
            if request.kind == "marks" and request.marks is not None:
                wanted.setdefault(str(int(request.order_id)), {}).update(marks_meta(request.marks))
            elif request.kind == "note":
                wanted.setdefault(str(int(request.order_id)), {})[META_NOTE] = note_meta(request.text)
            else:
                outcomes[request.key] = False  # no tags or holds in WooCommerce
        if not wanted:
            return outcomes
        current = self._meta_of(list(wanted))
        changes: dict[str, dict[str, str]] = {}
        for order_id, meta in wanted.items():
            if order_id in current:
                changed = {key: value for key, value in meta.items() if current[order_id].get(key) != value}
                if changed:
                    changes[order_id] = changed
        refused = self._write_meta(changes)
        for request in requests:
            if request.key in outcomes:
                continue
            order_id = str(int(request.order_id))
            keys = set(marks_meta(request.marks)) if request.kind == "marks" and request.marks else {META_NOTE}
            if order_id not in current:
                outcomes[request.key] = NotFoundError(f"order {order_id} is not in the store")
            elif order_id in refused:
                outcomes[request.key] = refused[order_id]
            else:
                outcomes[request.key] = bool(keys & set(changes.get(order_id, {})))
        return outcomes

    def _write_meta(self, changes: dict[str, dict[str, str]]) -> dict[str, Exception]:
        """`POST /orders/batch` of `changes` plus the notice references still to be recorded (all of
        them: they must be in the store before their notes go out); the orders refused, with why."""
        changes = {order_id: dict(meta) for order_id, meta in changes.items()}
        for order_id, (value, _refs_new) in self._announced.items():
            changes.setdefault(order_id, {})[META_NOTICES] = value
        refused: dict[str, Exception] = {}
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        for start in range(0, len(changes), BATCH_LIMIT):
            chunk = list(changes.items())[start : start + BATCH_LIMIT]
            updates = [{"id": int(order_id), "meta_data": [{"key": k, "value": v} for k, v in meta.items()]}
                       for order_id, meta in chunk]
            answer = self.client.post("orders/batch", {"update": updates})
            answered = {str(entry.get("id")): entry for entry in (answer or {}).get("update", [])}
            for order_id, meta in chunk:
                entry = answered.get(order_id) or {"error": {"code": "no_answer", "message": "not in the answer"}}
                error = entry.get("error")
                if not error:
                    self._meta[order_id] = {**(self._meta.get(order_id) or {}), **meta}
                    announced = self._announced.pop(order_id, None)
                    if announced is not None:
                        modified = entry.get("date_modified_gmt")
                        # The store's own clock dates its notes: keep its time for "posted since".
                        when = modified[:19] if isinstance(modified, str) and modified else stamp
                        self._prepared.setdefault(order_id, {}).update({ref: when for ref in announced[1]})
                elif error.get("code") in _GONE_CODES:
                    refused[order_id] = NotFoundError(f"order {order_id} vanished before its meta was written")
                elif error.get("code") == "no_answer":
                    refused[order_id] = TransportError(f"order {order_id}: the batch answer left it out")
                else:
                    refused[order_id] = UserError([f"order {order_id}: {error.get('code')}: {error.get('message')}"],
                                                  status=400)
        return refused

    def prepare_customer_notes(self, items: Sequence[tuple[str, str]]) -> None:
        """Announce the notices about to be posted: their references go into the orders'
        `_backorder_notices` meta with the next batch write (the marks' and notes', or one of their
        own before the first note is posted), so no notice costs more than its own POST."""
        refs_by_order: dict[str, list[str]] = {}
        for order_id, ref in items:
            refs_by_order.setdefault(str(int(order_id)), []).append(ref)
        current = self._meta_of(list(refs_by_order))
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        for order_id, refs in refs_by_order.items():
            if order_id not in current:
                continue
            known = _refs(current[order_id].get(META_NOTICES))
            new = [ref for ref in refs if ref not in known]
            if not new:
                continue  # started before: send_customer_note checks whether it landed
            known.update({ref: stamp for ref in new})
            kept = dict(sorted(known.items(), key=lambda item: item[1])[-NOTICES_KEPT:])
            self._announced[order_id] = (json.dumps(kept, sort_keys=True), new)

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        """Post a customer note (WooCommerce emails it) saying `text` and nothing else.

        The reference stays out of what the customer reads: it is recorded in the order meta
        `_backorder_notices` (with the store's time) before the note is posted. A repeated call for
        the same reference first looks for a customer note with this text posted since that time,
        and returns False without writing when there is one.
        """
        path = f"orders/{int(order_id)}/notes"
        if self._announced:
            self._write_meta({})  # announced references are recorded before any note goes out
        prepared = self._prepared.get(str(int(order_id)), {}).pop(ref, None)
        if prepared is not None:  # recorded moments ago by prepare_customer_notes, so never posted yet
            body = {"note": text.rstrip(), "customer_note": True}
            return self._post_once(path, body, lambda: self._note_landed(path, text, prepared))
        refs = self._notice_refs(order_id)
        started = refs.get(ref)
        if started is not None and self._note_landed(path, text, started):
            return False
        if started is None:
            started = self._record_notice(order_id, ref, refs)
        body = {"note": text.rstrip(), "customer_note": True}
        return self._post_once(path, body, lambda: self._note_landed(path, text, started))

    def _notice_refs(self, order_id: str) -> dict[str, str]:
        order = self.client.get(f"orders/{int(order_id)}", {"_fields": "id,meta_data"}) or {}
        for entry in order.get("meta_data") or []:
            if entry.get("key") == META_NOTICES:
                return _refs(entry.get("value"))
        return {}

    def _record_notice(self, order_id: str, ref: str, refs: dict[str, str]) -> str:
        """Note in the order meta that the notice `ref` is about to be posted; returns the store's time."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        refs[ref] = stamp
        kept = dict(sorted(refs.items(), key=lambda item: item[1])[-NOTICES_KEPT:])
        order = self.client.put(f"orders/{int(order_id)}",
                                {"meta_data": [{"key": META_NOTICES, "value": json.dumps(kept, sort_keys=True)}]})
        # The store's own clock dates its notes: keep its time for "posted since".
        modified = order.get("date_modified_gmt") if isinstance(order, dict) else None
        if isinstance(modified, str) and modified:
            kept[ref] = modified[:19]
        return kept[ref]

    def _note_landed(self, path: str, text: str, since: str) -> bool:
        """A customer note with this text was posted at or after `since` (store time, a few seconds' slack)."""
        wanted = _loose(text)
        earliest = _gmt(since) - timedelta(seconds=5)
        for note in self.client.get(path, {"type": "customer"}) or []:
            created = note.get("date_created_gmt")
            if isinstance(created, str) and created and _gmt(created) < earliest:
                continue
            if _loose(str(note.get("note", ""))) == wanted:
                return True
        return False

    def _post_once(self, path: str, body: dict[str, Any], landed: Callable[[], bool]) -> bool:
        """POST a note without blind retries: a lost answer may hide a note that was written (and
        emailed), so after a transport failure the notes are read again before giving up."""
        try:
            self.client.request("POST", path, json_body=body, attempts=1)
            return True
        except TransportError:
            if landed():
                return True
            raise

    def cancel_units(self, order_id: str, request: CancelRequest) -> CancelOutcome:
        return cancel_units(self.client, order_id, request)

    def ship_ready(self, order_id: str, split: ReadySplit) -> bool:
        """WooCommerce has no per-line fulfilment: a note tells the merchant what can ship now."""
        ready = ", ".join(f"{line.quantity} × line {line.line_id}" for line in split.ready)
        held = ", ".join(f"{line.quantity} × line {line.line_id}" for line in split.held)
        return self.write_note(order_id, f"Backorder connector: ship now what is in stock ({ready}); "
                                         f"the backordered units follow ({held}).")

    def add_tag(self, order_id: str, tag: str) -> bool:
        return False  # WooCommerce orders have no tags (capabilities.tags is False)

    def remove_tag(self, order_id: str, tag: str) -> bool:
        return False

    def hold(self, order_id: str, request: HoldRequest) -> bool:
        return False  # no per-line fulfilment holds in WooCommerce (capabilities.holds is False)

    def release(self, order_id: str) -> bool:
        return False

    # Webhooks ---------------------------------------------------------------------------------

    def ensure_webhooks(
        self, address: str, topics: Iterable[str], *, secret: str | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> list[WebhookInfo]:
        """Make sure a webhook delivers each topic to `address`.

        Missing ones are created active with `secret` or, when None, a fresh random secret each (returned
        in `WebhookInfo.secret`: the caller must store it). One the store owner paused stays paused. One
        WooCommerce disabled after failed deliveries is re-enabled only once a test delivery, signed with
        its secret (`secrets[webhook id]`, else `secrets["*"]`), got through to `address`; otherwise it
        stays disabled and the reason is returned. Webhooks to other addresses are left alone.
        """
        known = dict(secrets or {})
        existing = list(self.client.paginate("webhooks"))
        result: list[WebhookInfo] = []
        for topic in dict.fromkeys(topics):
            matches = sorted(
                (hook for hook in existing if hook.get("topic") == topic and hook.get("delivery_url") == address),
                key=lambda hook: int(hook["id"]),
            )
            if not matches:
                new_secret = secret or secrets_module.token_urlsafe(32)
                created = self.client.post(
                    "webhooks",
                    {
                        "name": f"Backorder connector: {topic}",
                        "topic": topic,
                        "delivery_url": address,
                        "secret": new_secret,
                        "status": "active",
                    },
                )
                result.append(WebhookInfo(str(created["id"]), topic, "created", new_secret))
                continue
            hook = matches[0]
            hook_id = str(hook["id"])
            status = hook.get("status")
            if status == "active":
                result.append(WebhookInfo(hook_id, topic, "unchanged"))
            elif status == "paused":
                result.append(WebhookInfo(hook_id, topic, "paused", note=PAUSED_NOTE))
            else:
                result.append(self._after_failures(address, hook_id, topic, known.get(hook_id) or known.get("*")))
        return result

    def _after_failures(self, address: str, hook_id: str, topic: str, secret: str | None) -> WebhookInfo:
        """A webhook WooCommerce disabled: re-enabled only if a test delivery to the intake gets through."""
        if secret is None:
            return WebhookInfo(hook_id, topic, "disabled", note=DISABLED_NOTE + " Its secret is not known to the "
                               "connector, so it cannot be tested: re-enable it in WooCommerce > Settings > Advanced "
                               "> Webhooks once the intake answers.")
        delivered, detail = send_test_delivery(address, hook_id, secret, store_url=self.client.store_url)
        if not delivered:
            log.warning("woocommerce webhook %s (%s) stays disabled: test delivery failed, %s", hook_id, topic, detail)
            return WebhookInfo(hook_id, topic, "disabled", note=f"{DISABLED_NOTE} A test delivery to the intake "
                               f"failed ({detail}), so it stays disabled; the next check tries again.")
        self.client.put(f"webhooks/{int(hook_id)}", {"status": "active"})
        log.info("woocommerce webhook %s (%s) re-enabled after a test delivery (%s)", hook_id, topic, detail)
        return WebhookInfo(hook_id, topic, "reenabled", note=f"{DISABLED_NOTE} Re-enabled after a test delivery "
                           f"to the intake got through ({detail}).")

    def check_access(self) -> AccessReport:
        """WooCommerce keys carry read/write permission as a whole; a key without write fails loudly on its
        first write, so there is nothing more to check here."""
        return AccessReport()


PAUSED_NOTE = ("Paused in WooCommerce (by the store owner): the connector leaves it paused, and the periodic "
               "sync catches up on what it would have delivered.")
DISABLED_NOTE = "WooCommerce disabled it after repeated failed deliveries."


def _refs(value: Any) -> dict[str, str]:
    """The `_backorder_notices` meta value as {reference: store time} (anything unreadable is empty)."""
    try:
        refs = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return {str(key): str(when) for key, when in refs.items()} if isinstance(refs, dict) else {}


def note_meta(text: str) -> str:
    """The `backorder_note` meta value for a note."""
    return f"{NOTE_HEADER}\n{text.strip()}"


def _stock(holder: dict[str, Any], sold: dict[str, Any], parent: dict[str, Any] | None = None) -> StockRecord | None:
    """The stock of `sold` (a product or variation, SKU falling back to its parent's), counted from
    `holder`, the product whose stock fields apply (itself, or its parent for parent-managed stock)."""
    sku = sold.get("sku") or (parent or {}).get("sku")
    if not sku:
        log.debug("product %s has no SKU; stock not reported", sold.get("id"))
        return None
    return StockRecord(
        sku=str(sku),
        location_id="default",
        quantity=_quantity(holder.get("stock_quantity")),
        tracked=holder.get("manage_stock") is True,
        item_ref=str(holder["id"]),
        # the plugin reads the ETA where the stock is held: the product, or a variation with stock of its own
        storefront_ref=f"{int(parent['id'])}/{int(holder['id'])}" if parent is not None and holder is not parent
        else str(holder["id"]),
    )


def _quantity(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _comparable(text: str) -> str:
    """Note text as WordPress may hand it back (tags, entities, stripped backslashes, re-wrapped)."""
    without_tags = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(without_tags).replace("\\", "").split())


_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u2026": "...", "\u00d7": "x", "\u00a0": " "})


def _loose(text: str) -> str:
    """Note text compared loosely: WordPress may return it re-wrapped, with curly quotes and dashes."""
    return _comparable(text).translate(_TYPOGRAPHY)


def _gmt(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _newest_first(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(notes, key=lambda note: (str(note.get("date_created_gmt") or ""), int(note.get("id") or 0)), reverse=True)
