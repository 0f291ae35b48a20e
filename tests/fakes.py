"""In-memory stand-ins for a store platform and a notice channel, shared by tests that must not need a sandbox."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from connector.notify.message import DeliveryReceipt, OutgoingNotice
from connector.platforms.base import (
    AccessReport,
    CancelLine,
    CancelOutcome,
    CancelRequest,
    Capabilities,
    HoldRequest,
    OrderMarks,
    PlatformName,
    ReadySplit,
    RemoteOrder,
    ShopProfile,
    StockRecord,
    StorefrontEta,
    WebhookInfo,
)


@dataclass
class FakePlatform:
    """A store kept in dicts. Writes read before they write (returning False when nothing changes),
    like the real adapters; `calls` records every write; `failures` makes the next calls of a
    method raise the queued errors."""

    name: PlatformName = "shopify"
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(tags=True, holds=True, customer_notes=False, marks_batch_size=10)
    )
    orders: dict[str, RemoteOrder] = field(default_factory=dict)
    stock: list[StockRecord] = field(default_factory=list)
    tags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    marks: dict[str, OrderMarks] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    holds: dict[str, HoldRequest] = field(default_factory=dict)
    customer_notes: dict[str, str] = field(default_factory=dict)  # ref -> text
    webhook_calls: int = 0
    calls: list[tuple[str, str]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=lambda: defaultdict(list))
    closed: int = 0
    store_name: str = "Fake Outfitters"
    profile_reads: int = 0
    access: AccessReport = field(default_factory=AccessReport)
    # order id -> the refunds the store holds for it: (marker, units cancelled, whole order)
    refunds: dict[str, list[tuple[str, tuple[CancelLine, ...], bool]]] = field(default_factory=lambda: defaultdict(list))
    unit_price: str = "10.00"
    splits: dict[str, ReadySplit] = field(default_factory=dict)
    storefront: dict[str, StorefrontEta] = field(default_factory=dict)  # target -> what its page shows
    storefront_refused: dict[str, str] = field(default_factory=dict)  # target -> the store's reason
    storefront_requests: int = 0

    def prepare_storefront(self) -> None:
        self._maybe_fail("prepare_storefront")
        self.calls.append(("prepare_storefront", ""))

    def write_storefront_etas(self, items: Sequence[StorefrontEta]) -> dict[str, str | None]:
        self._maybe_fail("write_storefront_etas")
        self.storefront_requests += 1
        answers: dict[str, str | None] = {}
        for item in items:
            answers[item.target] = self.storefront_refused.get(item.target)
            if answers[item.target] is None:
                if item.eta is None:
                    self.storefront.pop(item.target, None)
                else:
                    self.storefront[item.target] = item
        return answers

    def check_access(self) -> AccessReport:
        self._maybe_fail("check_access")
        return self.access

    def _maybe_fail(self, method: str) -> None:
        queued = self.failures.get(method)
        if queued:
            raise queued.pop(0)

    def shop_profile(self) -> ShopProfile:
        self._maybe_fail("shop_profile")
        self.profile_reads += 1
        return ShopProfile(self.store_name)

    def iter_all_orders(self) -> Iterator[RemoteOrder]:
        return self.iter_orders(None)

    def iter_orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        self._maybe_fail("iter_orders")
        chosen = [o for o in self.orders.values() if updated_since is None or o.updated_at >= updated_since]
        yield from sorted(chosen, key=lambda o: o.updated_at)

    def get_order(self, order_id: str) -> RemoteOrder | None:
        return self.orders.get(order_id)

    def iter_stock(self) -> Iterator[StockRecord]:
        self._maybe_fail("iter_stock")
        yield from self.stock

    def add_tag(self, order_id: str, tag: str) -> bool:
        self._maybe_fail("add_tag")
        self.calls.append(("add_tag", order_id))
        if tag in self.tags[order_id]:
            return False
        self.tags[order_id].add(tag)
        return True

    def remove_tag(self, order_id: str, tag: str) -> bool:
        self._maybe_fail("remove_tag")
        self.calls.append(("remove_tag", order_id))
        if tag not in self.tags[order_id]:
            return False
        self.tags[order_id].discard(tag)
        return True

    def write_marks(self, items: Iterable[tuple[str, OrderMarks]]) -> dict[str, bool]:
        self._maybe_fail("write_marks")
        changed: dict[str, bool] = {}
        for order_id, marks in items:
            self.calls.append(("write_marks", order_id))
            changed[order_id] = self.marks.get(order_id) != marks
            self.marks[order_id] = marks
        return changed

    def write_note(self, order_id: str, text: str) -> bool:
        self._maybe_fail("write_note")
        self.calls.append(("write_note", order_id))
        if self.notes[order_id] and self.notes[order_id][-1] == text:
            return False
        self.notes[order_id].append(text)
        return True

    def hold(self, order_id: str, request: HoldRequest) -> bool:
        self._maybe_fail("hold")
        self.calls.append(("hold", order_id))
        if self.holds.get(order_id) == request:
            return False
        self.holds[order_id] = request
        return True

    def release(self, order_id: str) -> bool:
        self._maybe_fail("release")
        self.calls.append(("release", order_id))
        return self.holds.pop(order_id, None) is not None

    def send_customer_note(self, order_id: str, text: str, ref: str) -> bool:
        self._maybe_fail("send_customer_note")
        self.calls.append(("send_customer_note", order_id))
        if ref in self.customer_notes:
            return False
        self.customer_notes[ref] = text
        return True

    def cancel_units(self, order_id: str, request: CancelRequest) -> CancelOutcome:
        self._maybe_fail("cancel_units")
        self.calls.append(("cancel_units", order_id))
        units = sum(line.quantity for line in request.lines)
        amount = f"{units * float(self.unit_price):.2f}"
        if any(marker == request.marker for marker, _, _ in self.refunds[order_id]):
            return CancelOutcome(f"refund-{order_id}", amount, "USD", already_done=True)
        self.refunds[order_id].append((request.marker, request.lines, request.whole_order))
        return CancelOutcome(f"refund-{order_id}", amount, "USD")

    def ship_ready(self, order_id: str, split: ReadySplit) -> bool:
        self.calls.append(("ship_ready", order_id))
        changed = self.splits.get(order_id) != split
        self.splits[order_id] = split
        return changed

    def ensure_webhooks(self, address: str, topics: Iterable[str], *,
                        secrets: Mapping[str, str] | None = None) -> list[WebhookInfo]:
        self.webhook_calls += 1
        return [WebhookInfo(id=f"hook-{topic}", topic=topic, action="unchanged") for topic in topics]

    def close(self) -> None:
        self.closed += 1

    def writes(self, method: str) -> list[str]:
        """The order ids `method` was called for, in call order."""
        return [order_id for name, order_id in self.calls if name == method]


class FileLogChannel:
    """A notice channel that appends one JSON line per send to a file, flushed to disk before it
    returns, so a test can count sends across processes that were killed at any point."""

    name = "filelog"

    def __init__(self, path: Path, *, failures: list[Exception] | None = None) -> None:
        self.path = Path(path)
        self.failures = failures if failures is not None else []

    def send(self, notice: OutgoingNotice) -> DeliveryReceipt:
        if self.failures:
            raise self.failures.pop(0)
        line = json.dumps({"ref": notice.ref, "to": notice.to_address, "subject": notice.subject, "pid": os.getpid()})
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        return DeliveryReceipt(channel=self.name, reference=notice.ref)

    def sent_refs(self) -> list[str]:
        if not self.path.exists():
            return []
        refs = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                refs.append(json.loads(line)["ref"])
            except ValueError:
                continue  # a line torn by a kill mid-write was never acknowledged
        return refs


def remote_order(
    platform_id: str,
    lines: list[tuple[str, str, int]],
    *,
    created: datetime,
    updated: datetime | None = None,
    is_open: bool = True,
    email: str | None = "customer@example.com",
    first_name: str | None = "Ada",
) -> RemoteOrder:
    """A RemoteOrder with lines given as (line id, sku, quantity)."""
    from connector.platforms.base import RemoteLine

    return RemoteOrder(
        platform_id=platform_id,
        name=f"#{platform_id}",
        created_at=created,
        updated_at=updated or created,
        is_open=is_open,
        status="open" if is_open else "cancelled",
        lines=tuple(RemoteLine(line_id, sku, qty, qty, title=f"Item {sku}") for line_id, sku, qty in lines),
        customer_email=email,
        customer_first_name=first_name,
        customer_name=f"{first_name} Lovelace" if first_name else None,
        locale="en",
        customer_id=f"cust-{platform_id}",
    )

