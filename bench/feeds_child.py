"""Child process of the feed benchmark: one piece of work in a fresh process, figures printed as JSON.

    python -m bench.feeds_child csv FEED                 read FEED with the csv module (the reference)
    python -m bench.feeds_child import FEED DB_URL DIR     `import_feed` of FEED (forced: every row replaced)
    python -m bench.feeds_child reimport FEED DB_URL DIR   the same file again (found unchanged by its hash)
    python -m bench.feeds_child reconcile DB_URL DIR       `reconcile --dry-run` of a shop with no orders

Run in a fresh process each time so the peak resident memory belongs to that piece of work alone.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time

from bench.machine import own_peak_rss_mb

SECRET = "SKArEcaB3g8xmUNWn04b2Aw-xDuZZVlt5_FBRIRTNTs="


def _services(database_url: str, data_dir: str):  # type: ignore[no-untyped-def]
    from connector.services import Services
    from connector.settings import load_settings

    return Services(load_settings(database_url=database_url, data_dir=data_dir, connector_secret_key=SECRET), migrate=True)


def _read_csv(feed: str) -> tuple[float, int]:
    started = time.perf_counter()
    with open(feed, newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.reader(handle))
    return time.perf_counter() - started, rows


def _import(feed: str, database_url: str, data_dir: str, *, force: bool) -> tuple[float, dict[str, object]]:
    from connector.feeds.importer import import_feed

    services = _services(database_url, data_dir)
    services.db  # noqa: B018 - opening the database migrates it; migrations are not part of the import
    started = time.perf_counter()
    with services.db.session() as session:
        result = import_feed(session, feed, "bench-supplier", force=force)
    seconds = time.perf_counter() - started
    services.close()
    return seconds, {"status": result.status, "rows": result.rows, "rejected": result.rejected_count}


def _reconcile(database_url: str, data_dir: str) -> tuple[float, dict[str, object]]:
    from connector.pipeline.outbox import reconcile_and_queue
    from connector.store.models import Shop, utcnow

    services = _services(database_url, data_dir)
    with services.db.session() as session:
        shop = Shop(platform="shopify", domain="bench.myshopify.com", name="Bench", settings={}, active=True)
        session.add(shop)
        session.flush()
        shop_id = shop.id
    started = time.perf_counter()
    result, _ = reconcile_and_queue(services, shop_id, as_of=utcnow().date(), dry_run=True)
    seconds = time.perf_counter() - started
    services.close()
    assert result is not None
    return seconds, {"orders": len(result.plan.orders)}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> None:
    kind, *rest = argv
    cpu_before = _cpu()
    extra: dict[str, object] = {}
    if kind == "csv":
        seconds, rows = _read_csv(rest[0])
        extra = {"rows": rows}
    elif kind in ("import", "reimport"):
        feed, database_url, data_dir = rest
        seconds, extra = _import(feed, database_url, data_dir, force=kind == "import")
    elif kind == "reconcile":
        database_url, data_dir = rest
        seconds, extra = _reconcile(database_url, data_dir)
    else:
        raise SystemExit(f"unknown work {kind!r}")
    # CPU seconds of this process (both threads): on a busy machine they say more than the wall time,
    # and on SQLite they are the whole of the work (PostgreSQL's server does its share elsewhere).
    print(json.dumps({"seconds": seconds, "cpu_seconds": _cpu() - cpu_before, "peak_rss_mb": own_peak_rss_mb(),
                      **extra}))


if __name__ == "__main__":
    main(sys.argv[1:])
