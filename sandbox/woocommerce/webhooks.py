"""Webhook sending for the WooCommerce sandbox: the unsigned creation ping and signed deliveries from a queue thread."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import requests

from sandbox.common import FaultPlan
from sandbox.woocommerce.model import ChangeEvent, DeliveryRecord, Webhook, gmt_string
from sandbox.woocommerce.php import json_encode_bytes
from sandbox.woocommerce.present import resource_payload
from sandbox.woocommerce.state import WooState

USER_AGENT = "WooCommerce/9.0 Hookshot (WordPress/6.5)"
MAX_DELIVERY_FAILURES = 5  # woocommerce_max_webhook_delivery_failures


def webhook_signature(body: bytes, secret: str) -> str:
    """X-WC-Webhook-Signature: base64 of HMAC-SHA256 over the raw body bytes."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def delivered_ok(status: int) -> bool:
    """WooCommerce counts 200..302 as delivered."""
    return 200 <= status <= 302


@dataclass(frozen=True, slots=True)
class _Job:
    webhook_id: int
    resource: str
    event: str
    resource_id: int


class WebhookDispatcher:
    """Queues a delivery per matching active webhook on every change and sends them from one daemon thread.

    Like Action Scheduler, a (webhook, resource) pair that is already waiting is not queued twice:
    bursts collapse, and the payload is built when the delivery is sent.
    """

    def __init__(self, state: WooState, faults: FaultPlan, clock: Callable[[], float], root: Callable[[], str],
                 *, timeout: float = 10.0) -> None:
        self._state = state
        self._faults = faults
        self._clock = clock
        self._root = root
        self._timeout = timeout
        self._jobs: deque[_Job] = deque()
        self._waiting: set[tuple[int, int]] = set()
        self._busy = False
        self._closed = False
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._session = requests.Session()
        state.subscribe(self.on_change)

    # ---- queueing -----------------------------------------------------------------------------

    def on_change(self, change: ChangeEvent) -> None:
        with self._state.lock:
            hooks = [h for h in self._state.webhooks.values() if h.status == "active" and h.topic == f"{change.resource}.{change.event}"]
        with self._condition:
            for hook in hooks:
                key = (hook.id, change.resource_id)
                if key in self._waiting:
                    continue
                self._waiting.add(key)
                self._jobs.append(_Job(hook.id, change.resource, change.event, change.resource_id))
            if hooks:
                self._ensure_thread()
                self._condition.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="woo-sandbox-webhooks", daemon=True)
            self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has been attempted; False if that took longer than `timeout`."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._jobs and not self._busy, timeout=timeout)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def pending(self) -> int:
        with self._condition:
            return len(self._jobs) + (1 if self._busy else 0)

    # ---- sending ------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._jobs or self._closed)
                if self._closed:
                    return
                job = self._jobs.popleft()
                self._waiting.discard((job.webhook_id, job.resource_id))
                self._busy = True
            try:
                self._deliver(job)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _deliver(self, job: _Job) -> None:
        state = self._state
        with state.lock:
            hook = state.webhooks.get(job.webhook_id)
            if hook is None or hook.status != "active":
                return
            topic, secret, url, hook_id = hook.topic, hook.secret, hook.delivery_url, hook.id
        now = self._clock()
        if self._faults.should_drop_webhook():
            state.record_delivery(DeliveryRecord(hook_id, "dropped", topic, job.resource_id, None, None, None, gmt_string(now)))
            return
        root = self._root()
        payload = {"id": job.resource_id} if job.event == "deleted" else resource_payload(state, job.resource, job.resource_id, root)
        body = json_encode_bytes(payload)
        delivery_id = hashlib.md5(f"{hook_id}.{now}.{next(self._ids)}".encode()).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": f"{root}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": job.resource,
            "X-WC-Webhook-Event": job.event,
            "X-WC-Webhook-Signature": webhook_signature(body, secret),
            "X-WC-Webhook-ID": str(hook_id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        status, error = self._post(url, body, headers)
        state.record_delivery(DeliveryRecord(hook_id, "delivery", topic, job.resource_id, delivery_id, status, error, gmt_string(now)))
        self._count(hook_id, status is not None and delivered_ok(status))

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        try:
            response = self._session.post(url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return None, type(exc).__name__
        return response.status_code, None

    def _count(self, hook_id: int, success: bool) -> None:
        with self._state.lock:
            hook = self._state.webhooks.get(hook_id)
            if hook is None:
                return
            if success:
                hook.failure_count = 0
            elif hook.failure_count >= MAX_DELIVERY_FAILURES:
                # WC_Webhook::failed_delivery(): past the limit the webhook is disabled, not retried.
                hook.status = "disabled"
            else:
                hook.failure_count += 1

    def ping(self, hook: Webhook) -> int | None:
        """The creation ping: form body `webhook_id=N`, no X-WC headers, sent synchronously like core."""
        status, error = self._post(
            hook.delivery_url,
            f"webhook_id={hook.id}".encode(),
            {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
        )
        self._state.record_delivery(DeliveryRecord(hook.id, "ping", hook.topic, None, None, status, error, gmt_string(self._clock())))
        with self._state.lock:
            hook.last_ping_status = status
        return status
