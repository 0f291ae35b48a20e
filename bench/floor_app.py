"""The intake benchmark's floor: the least Python that verifies a Shopify delivery and commits it to the inbox.

No framework, no settings, no caches, no checks beyond the signature: HMAC over the body, then the same
autocommitted INSERT … ON CONFLICT DO NOTHING RETURNING the connector sends, on a connection per server
thread. Whatever the connector's intake does on top of this is its own cost; what this costs against the
bare app is what a durable commit per delivery costs on the machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Json

_SQL = ("INSERT INTO inbox (platform, delivery_id, topic, shop_domain, shop_id, headers, body, body_omitted,"
        " received_at, next_attempt_at, status, attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, %s, %s,"
        " 'pending', 0) ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING id")
_ANSWERS = {True: b'{"status":"stored"}\n', False: b'{"status":"duplicate"}\n'}
_local = threading.local()


def _connection() -> psycopg.Connection[Any]:
    connection: psycopg.Connection[Any] | None = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = psycopg.connect(os.environ["BENCH_FLOOR_DATABASE"], autocommit=True)
    return connection


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST":  # the benchmark's readiness probe
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    digest = hmac.new(os.environ["SHOPIFY_API_SECRET"].encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), environ.get("HTTP_X_SHOPIFY_HMAC_SHA256", "")):
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    topic = environ.get("HTTP_X_SHOPIFY_TOPIC", "")
    now = datetime.now(UTC).replace(tzinfo=None)
    row = _connection().execute(_SQL, ("shopify", environ.get("HTTP_X_SHOPIFY_WEBHOOK_ID", ""), topic,
                                       environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", ""), int(os.environ["BENCH_FLOOR_SHOP"]),
                                       Json({"X-Shopify-Topic": topic}), body, now, now)).fetchone()
    answer = _ANSWERS[row is not None]
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]
