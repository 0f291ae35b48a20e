"""Benchmark 2: webhook intake under `connector serve` (gunicorn, 2 workers) against a bare Flask app and a floor.

Signed Shopify deliveries come from wrk (bench/intake.lua) or, without wrk, Python processes. Every server
(the bare app, the connector on SQLite and on PostgreSQL, each plain and with group commit, and on
PostgreSQL the floor, bench/floor_app.py, which stores the same rows with nothing but the HMAC and the
INSERT) runs side by side and is loaded in turn, round after round, so all of them meet the same machine.
Afterwards each inbox must hold exactly one row per delivery answered "stored": nothing lost, repeats
stored once. Each server's CPU time is split by process kind.
"""

from __future__ import annotations

import base64
import random
import hashlib
import hmac
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from bench.engine_data import shopify_order
from bench.cpu import CpuMeter, per_delivery
from bench.loadgen import have_wrk, run_python, run_wrk
from bench.machine import ROOT, ratio
from bench.report import Section, fmt_ratio

SECRET_KEY = "ZTRUiWmYNNgTkOtA4OwzQFCdxfqT2PFaMc7ntObqwNU="
SHOPIFY_SECRET = "bench-shopify-api-secret"
SHOP_DOMAIN = "bench-store.myshopify.com"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORKERS = 2
THREADS = 4
CONNECTIONS = 8
GOAL_P99_MS = 50.0


def postgres_base_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES


def postgres_available(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means the database is not there
        return False


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards (as tests/conftest.py does)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def delivery_body() -> bytes:
    """A realistic orders/create body (about 2 KB)."""
    order, _ = shopify_order(random.Random(7), 1, datetime(2026, 11, 2, 14, 0, tzinfo=UTC), 500, 1)
    return json.dumps(order).encode()


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHOPIFY_", "DATABASE_URL"))}
    env.update(DATABASE_URL=database_url, DATA_DIR=str(data_dir), CONNECTOR_SECRET_KEY=SECRET_KEY,
               SHOPIFY_API_KEY="bench-api-key", SHOPIFY_API_SECRET=SHOPIFY_SECRET, APP_URL="http://127.0.0.1:8000",
               LOG_LEVEL="WARNING")
    return env


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, ready_path: str) -> Iterator[None]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}{ready_path}", method="GET")
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError as error:
                if getattr(error, "code", None) == 405:  # the bare app has no GET route: it is up
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 60 s") from None
                time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prepare_database(database_url: str, data_dir: Path) -> None:
    """Migrate and install the benchmark shop, so deliveries are attributed to an installed shop."""
    from connector.services import Services
    from connector.settings import load_settings
    from connector.store.models import Shop

    services = Services(load_settings(database_url=database_url, data_dir=data_dir, connector_secret_key=SECRET_KEY),
                        migrate=True)
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain=SHOP_DOMAIN, name="Bench store", settings={})
        shop.credentials = services.box.seal({"access_token": "shpat_bench"})
        session.add(shop)
    services.close()


def inbox_rows(database_url: str) -> int:
    from connector.store.models import InboxItem

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(InboxItem.__table__)
                                   .where(InboxItem.__table__.c.delivery_id.like("bench-%"))).scalar_one()
    engine.dispose()
    return int(count)


ROUNDS = 5  # each server is loaded this many times, in turn with the others, so all meet the same machine
ROUND_SECONDS = 10  # long enough that the repeats-only last second leaves about a quarter of answers repeats
WARM_UP_SECONDS = 2
_TOTALS = ("requests", "duration_us", "issued", "repeats", "answered_200", "stored", "duplicate", "other_status",
           "socket_errors", "timeouts")


def load(port: int, body_path: Path, body: bytes, seconds: int, tag: str) -> dict[str, Any]:
    """The generator's figures for one run (webhook ids tagged `tag`), with `cpu`: CPU seconds by process kind."""
    meter = CpuMeter()
    meter.start()
    if have_wrk():
        figures = run_wrk(f"http://127.0.0.1:{port}", body_path, sign(body), seconds=seconds, connections=CONNECTIONS,
                          tag=tag)
    else:
        figures = run_python("127.0.0.1", port, body, sign(body), seconds=seconds, connections=CONNECTIONS, tag=tag)
    figures["cpu"] = meter.stop()
    return figures


def _rate(figures: dict[str, Any]) -> float:
    return figures["requests"] / (figures["duration_us"] / 1e6)


@dataclass
class Server:
    """One server the benchmark loads: its row label, how to start it, and the database its inbox is in."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready_path: str
    port: int
    database_url: str | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)  # the measured runs
    warm_up: dict[str, Any] | None = None  # stored and answered like the rest; not in the rates

    def totals(self) -> dict[str, Any]:
        """The measured rounds summed: p50 is the rounds' median, p99 the worst round's, CPU seconds by kind;
        with `inbox_rows`, counted in the server's database now, to check against every run's "stored"."""
        summed: dict[str, Any] = {key: sum(run[key] for run in self.rounds) for key in _TOTALS}
        summed["p50_us"] = statistics.median(run["p50_us"] for run in self.rounds)
        summed["p99_us"] = max(run["p99_us"] for run in self.rounds)
        cpu: dict[str, float] = {}
        for run in self.rounds:
            for kind, seconds in run["cpu"].items():
                cpu[kind] = cpu.get(kind, 0.0) + seconds
        summed["cpu"] = cpu
        summed["generator"] = self.rounds[0]["generator"]
        every_run = [*self.rounds, *([self.warm_up] if self.warm_up else [])]
        summed["stored_all"] = sum(run["stored"] for run in every_run)
        summed["inbox_rows"] = inbox_rows(self.database_url) if self.database_url else 0
        return summed


def gunicorn_command(port: int, app: str) -> list[str]:
    """A reference WSGI app under gunicorn as `connector serve` runs: the same workers, threads and keep-alive."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "gthread", "--threads",
            str(THREADS), "--keep-alive", "5", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]


def bare_server() -> Server:
    port = free_port()
    return Server("bare app", gunicorn_command(port, "bench.bare_app:app"), dict(os.environ), "/webhooks/shopify", port)


def connector_server(name: str, database_url: str, data_dir: Path, *, group_commit: bool = False) -> Server:
    prepare_database(database_url, data_dir)
    port = free_port()
    command = [sys.executable, "-m", "connector", "serve", "--port", str(port), "--workers", str(WORKERS),
               "--threads", str(THREADS)]
    env = server_env(database_url, data_dir) | {"INTAKE_GROUP_COMMIT": "true" if group_commit else "false"}
    return Server(name, command, env, "/healthz", port, database_url)


def floor_server(database_url: str, data_dir: Path) -> Server:
    """bench/floor_app.py under the same gunicorn: HMAC and the same INSERT, nothing else."""
    prepare_database(database_url, data_dir)
    port = free_port()
    libpq_url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    env = dict(os.environ, BENCH_FLOOR_DATABASE=libpq_url, SHOPIFY_API_SECRET=SHOPIFY_SECRET)
    return Server("PostgreSQL floor (bench/floor_app.py)", gunicorn_command(port, "bench.floor_app:app"), env, "/",
                  port, database_url)


def load_in_turn(servers: list[Server], body_path: Path, body: bytes, per_round: int) -> None:
    """Start every server, warm each up, then load them one after another for `ROUNDS` rounds of
    `per_round` seconds, starting each round one server further on. The machine's speed drifts over
    minutes (the same bare app ran at 1,900 and at 5,200 deliveries/s ten minutes apart), so each server
    is measured in every stretch of the run rather than in one stretch of its own."""
    with ExitStack() as stack:
        for server in servers:
            stack.enter_context(serving(server.command, server.env, server.port, server.ready_path))
        for server in servers:
            server.warm_up = load(server.port, body_path, body, WARM_UP_SECONDS, "warm")
        for number in range(ROUNDS):
            turn = number % len(servers)
            for server in servers[turn:] + servers[:turn]:
                server.rounds.append(load(server.port, body_path, body, per_round, f"r{number}"))


def _cpu_note(section: Section, name: str, figures: dict[str, Any]) -> None:
    seconds = figures["duration_us"] / 1e6
    spent = figures["cpu"]
    busy = sum(spent.values()) / (seconds * (os.cpu_count() or 1))
    section.note(f"{name}: CPU per delivery: {per_delivery(spent, figures['requests'])}; the cores were "
                 f"{busy:.0%} busy")


def round_ratios(server: Server, reference: Server) -> list[float]:
    """Per round, the server's deliveries/s against the reference's in the same round."""
    return [ratio(_rate(run), _rate(base)) for run, base in zip(server.rounds, reference.rounds, strict=True)]


def _round_ratios(server: Server, reference: Server) -> str:
    ratios = round_ratios(server, reference)
    return f"{', '.join(f'{value:.2f}' for value in ratios)} (median {statistics.median(ratios):.2f})"


def _report(section: Section, server: Server, bare: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    name, figures = server.name, server.totals()
    rate, bare_rate = _rate(figures), _rate(bare)
    section.add(f"{name}: deliveries/s", f"{rate:,.0f}", f"{bare_rate:,.0f}", fmt_ratio(ratio(rate, bare_rate)))
    section.add(f"{name}: p50 latency", f"{figures['p50_us'] / 1000:.1f} ms", f"{bare['p50_us'] / 1000:.1f} ms",
                fmt_ratio(ratio(figures['p50_us'], bare['p50_us'])))
    section.add(f"{name}: p99 latency", f"{figures['p99_us'] / 1000:.1f} ms", f"{bare['p99_us'] / 1000:.1f} ms",
                fmt_ratio(ratio(figures['p99_us'], bare['p99_us'])))
    exact = (figures["inbox_rows"] == figures["stored_all"]
             and figures["answered_200"] == figures["stored"] + figures["duplicate"]
             and figures["other_status"] == 0 and figures["socket_errors"] == 0 and figures["timeouts"] == 0)
    section.add(f"{name}: 200 answers (stored + repeats)",
                f"{figures['answered_200']:,} ({figures['stored']:,} + {figures['duplicate']:,})")
    section.add(f"{name}: inbox rows / answers \"stored\" (with the warm-up's)",
                f"{figures['inbox_rows']:,} / {figures['stored_all']:,} — {'equal' if exact else 'MISMATCH'}")
    unanswered = figures["issued"] - figures["stored"]
    if unanswered and exact:
        section.note(f"{name}: {figures['issued']:,} distinct ids were prepared; {unanswered} of them never got an "
                     "answer (wrk builds each connection's next request before it stops) and none of those is stored")
    if figures["other_status"] or figures["socket_errors"] or figures["timeouts"]:
        section.note(f"{name}: {figures['other_status']} non-200 answers, {figures['socket_errors']} socket errors, "
                     f"{figures['timeouts']} timeouts")
    return figures, exact


def run(round_seconds: int = ROUND_SECONDS) -> Section:
    section = Section("2. Webhook intake: `connector serve`",
                      goal=f"p99 under {GOAL_P99_MS:.0f} ms and at least half the bare app's throughput on "
                           "PostgreSQL; inbox rows equal to the deliveries answered as stored")
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    body = delivery_body()
    body_path = work / "body.json"
    body_path.write_bytes(body)
    postgres_url = postgres_base_url()
    with ExitStack() as schemas:
        bare = bare_server()
        servers = [bare,
                   connector_server("SQLite", f"sqlite:///{work}/sqlite/connector.db", work / "sqlite"),
                   connector_server("SQLite, group commit", f"sqlite:///{work}/group/connector.db", work / "group",
                                    group_commit=True)]
        have_postgres = postgres_available(postgres_url)
        if have_postgres:
            servers += [
                connector_server("PostgreSQL", schemas.enter_context(postgres_schema(postgres_url)), work / "pg"),
                connector_server("PostgreSQL, group commit", schemas.enter_context(postgres_schema(postgres_url)),
                                 work / "pg-group", group_commit=True),
                floor_server(schemas.enter_context(postgres_schema(postgres_url)), work / "pg-floor")]
        load_in_turn(servers, body_path, body, round_seconds)
        bare_totals = bare.totals()
        section.note(f"load: {bare_totals['generator']}, {ROUNDS} rounds of {round_seconds} s per server "
                     f"after a {WARM_UP_SECONDS} s warm-up; {len(body):,}-byte signed orders/create bodies with the headers "
                     "Shopify sends (Triggered-At too, so the connector's freshness check runs); every 10th "
                     "delivery repeats a webhook id already answered (and only repeats are sent in each run's last "
                     "second, so no stored delivery is still in flight when the generator stops)")
        section.note(f"servers: gunicorn, {WORKERS} workers × {THREADS} threads (gthread) for the connector and the "
                     "references (a bare Flask app answering 200 with no work, and the floor below). All of them run "
                     "side by side and are loaded in turn, one at a time, a round robin that starts one server further "
                     "on each round; p50 is the median of a server's rounds, p99 its worst round's")
        section.note("the connector answers webhooks in a WSGI layer in front of Flask (webhooks/wsgi.py) and stores each "
                     "delivery with one autocommitted INSERT … ON CONFLICT DO NOTHING RETURNING (PostgreSQL: a "
                     "statement prepared on each of the writer's own connections and sent through libpq, one round "
                     "trip, answered after the commit with synchronous_commit on; SQLite: one writer at a time, "
                     "threads and processes queued on locks). The \"group commit\" rows set INTAKE_GROUP_COMMIT=true: "
                     "the deliveries that arrive while one commit runs go together in the next statement")
        all_exact = True
        reported: dict[str, dict[str, Any]] = {}
        for server in servers[1:]:
            reported[server.name], exact = _report(section, server, bare_totals)
            all_exact &= exact
        met = reported["SQLite"]["p99_us"] / 1000 < GOAL_P99_MS
        if have_postgres:
            postgres, floor = reported["PostgreSQL"], reported["PostgreSQL floor (bench/floor_app.py)"]
            section.add("PostgreSQL: the connector's deliveries/s against the floor's", f"{_rate(postgres):,.0f}",
                        f"{_rate(floor):,.0f}", fmt_ratio(ratio(_rate(postgres), _rate(floor))))
            # The goal is judged on the median round: one round in which the bare app happened to be slow (or
            # fast) moves the summed rates, not the median.
            connector = next(server for server in servers if server.name == "PostgreSQL")
            median_ratio = statistics.median(round_ratios(connector, bare))
            section.add("PostgreSQL against the bare app, the median round (the goal's figure)", "",
                        "goal ≥ 0.50×", fmt_ratio(median_ratio))
            for server in servers[3:]:
                section.note(f"{server.name} against the bare app, round by round: {_round_ratios(server, bare)}")
            for name, figures in (("bare app", bare_totals), ("PostgreSQL", postgres),
                                  ("PostgreSQL, group commit", reported["PostgreSQL, group commit"]),
                                  ("PostgreSQL floor", floor)):
                _cpu_note(section, name, figures)
            section.note("the floor is the least a durable intake can do: a WSGI function that checks the HMAC and "
                         "sends the same autocommitted INSERT, prepared and sent through libpq, on a connection per thread, "
                         "under the same gunicorn. What it reaches against the bare app is what one committed row per "
                         "delivery costs on this machine; the connector's ratio to the floor is what its own code costs")
            met = met and postgres["p99_us"] / 1000 < GOAL_P99_MS and median_ratio >= 0.5
        else:
            section.note(f"PostgreSQL not reachable at {postgres_url.split('@')[-1]}: skipped (set BENCH_DATABASE_URL)")
    section.verdict = ("met" if met and all_exact else
                       "missed" + ("" if all_exact else " (inbox rows differ from stored answers)"))
    return section
