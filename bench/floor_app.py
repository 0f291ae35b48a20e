"""The intake benchmark's floor: the least Python that verifies a Shopify delivery and commits it to the inbox.

No framework, no settings, no caches, no checks beyond the signature: one read of the body, one HMAC
call, then the same autocommitted INSERT … ON CONFLICT DO NOTHING the connector sends (no shop id, as
the connector stores a Shopify delivery), prepared once on a connection per server thread and sent
through libpq as the connector's writer sends it. Whatever
the connector's intake does on top of this is its own cost; what this costs against the bare app is
what a durable commit per delivery costs on the machine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from base64 import b64encode
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg

_SQL = (b"INSERT INTO inbox (platform, delivery_id, topic, shop_domain, shop_id, headers, body, body_omitted,"
        b" received_at, next_attempt_at, status, attempts) VALUES ('shopify', $1::varchar, $2::varchar,"
        b" $3::varchar, NULL, $4::json, $5::bytea, NULL, $6::timestamp, $6::timestamp, 'pending', 0)"
        b" ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING id")
_FORMATS = [0, 0, 0, 0, 1, 0]  # the body in binary, the rest as text
_ANSWERS = {True: b'{"status":"stored"}\n', False: b'{"status":"duplicate"}\n'}
_SECRET = os.environ.get("SHOPIFY_API_SECRET", "").encode()
_local = threading.local()


def _pgconn() -> Any:
    pgconn = getattr(_local, "pgconn", None)
    if pgconn is None:
        _local.connection = psycopg.connect(os.environ["BENCH_FLOOR_DATABASE"], autocommit=True)
        pgconn = _local.pgconn = _local.connection.pgconn
        pgconn.prepare(b"floor_insert", _SQL)
    return pgconn


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST":  # the benchmark's readiness probe
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    digest = b64encode(hmac.digest(_SECRET, body, hashlib.sha256)).decode()
    if not hmac.compare_digest(digest, environ.get("HTTP_X_SHOPIFY_HMAC_SHA256", "")):
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    topic = environ.get("HTTP_X_SHOPIFY_TOPIC", "")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ").encode()
    result = _pgconn().exec_prepared(b"floor_insert", [
        environ.get("HTTP_X_SHOPIFY_WEBHOOK_ID", "").encode(), topic.encode(),
        environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", "").encode(), json.dumps({"X-Shopify-Topic": topic}).encode(),
        body, now], _FORMATS)
    if result.status != psycopg.pq.ExecStatus.TUPLES_OK:
        raise RuntimeError(result.error_message.decode(errors="replace"))
    answer = _ANSWERS[result.ntuples == 1]
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]
