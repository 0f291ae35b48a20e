"""Load generators for the intake benchmark: wrk with bench/intake.lua, or Python processes when wrk is absent.

Both send the same traffic (signed Shopify deliveries, every 10th repeating an id already answered) and
return the same figures: requests, duration, p50/p99 latency, 200 answers split into stored/duplicate.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

LUA_SCRIPT = Path(__file__).with_name("intake.lua")
TAIL_SECONDS = 1


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, body_path: Path, signature: str, *, seconds: int, connections: int, tag: str,
            threads: int = 1) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA_SCRIPT),
               url, "--", str(body_path), signature, str(seconds), str(TAIL_SECONDS), tag]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    for line in finished.stdout.splitlines():
        if line.startswith("BENCH "):
            figures: dict[str, Any] = json.loads(line[len("BENCH "):])
            figures["generator"] = f"wrk ({threads} thread(s), {connections} connections)"
            return figures
    raise RuntimeError(f"wrk printed no figures: {finished.stdout[-1000:]} {finished.stderr[-1000:]}")


def _client(args: tuple[int, str, int, bytes, str, float, str]) -> dict[str, Any]:
    number, host, port, body, signature, stop_at, tag = args
    rng = random.Random(number)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    latencies: list[float] = []
    figures = dict(issued=0, repeats=0, answered_200=0, stored=0, duplicate=0, other_status=0, socket_errors=0)
    count = 0
    while time.perf_counter() < stop_at:
        count += 1
        if count % 10 == 0 and figures["issued"]:
            figures["repeats"] += 1
            webhook_id = rng.randint(1, figures["issued"])
        else:
            figures["issued"] += 1
            webhook_id = figures["issued"]
        headers = {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": signature,
                   "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": "bench-store.myshopify.com",
                   "X-Shopify-Api-Version": "2026-10", "X-Shopify-Webhook-Id": f"bench-{tag}-p{number}-{webhook_id}",
                   "X-Shopify-Event-Id": f"event-{tag}-p{number}-{webhook_id}",
                   "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())}
        started = time.perf_counter()
        try:
            connection.request("POST", "/webhooks/shopify", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            figures["socket_errors"] += 1
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=10)
            continue
        latencies.append(time.perf_counter() - started)
        if response.status == 200:
            figures["answered_200"] += 1
            if b'"stored"' in answer:
                figures["stored"] += 1
            elif b'"duplicate"' in answer:
                figures["duplicate"] += 1
        else:
            figures["other_status"] += 1
    connection.close()
    return {**figures, "latencies": latencies}


def run_python(host: str, port: int, body: bytes, signature: str, *, seconds: int, connections: int,
               tag: str) -> dict[str, Any]:
    """`connections` processes, one keep-alive connection each, one request at a time."""
    started = time.perf_counter()
    stop_at = started + seconds
    with multiprocessing.get_context("spawn").Pool(connections) as pool:
        parts = pool.map(_client, [(n, host, port, body, signature, stop_at, tag) for n in range(connections)])
    duration = time.perf_counter() - started
    latencies = sorted(value for part in parts for value in part["latencies"])
    totals = {key: sum(part[key] for part in parts) for key in parts[0] if key != "latencies"}

    def percentile(share: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1e6) if latencies else 0

    return {**totals, "requests": len(latencies) + totals["socket_errors"], "duration_us": int(duration * 1e6),
            "p50_us": percentile(0.50), "p99_us": percentile(0.99), "timeouts": 0,
            "generator": f"Python load generator ({connections} processes)"}
