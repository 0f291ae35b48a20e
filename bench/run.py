"""`make bench`: runs every benchmark, prints the figures and writes bench/RESULTS.md.

    python -m bench.run                 everything: about 15 minutes on a small machine, plus the bulk comparison
                                        (two first syncs of 100,000 orders, one after the other, ~20 minutes)
    python -m bench.run --full          the issue's full sizes: the metered Shopify sync of 10,000 orders (~15 min)
                                        and the 100,000-order memory run (~30 min against the sandbox)
    python -m bench.run --only engine,intake --quick     a smoke run on small data (RESULTS.md not written)
    python -m bench.run --only bulk --update-results     one benchmark, its section replaced in RESULTS.md
    python -m bench.run --only feeds --update-results    the 50 MB supplier feed import (about 2 minutes)
    python -m bench.run --only storefront --update-results   storefront ETA requests per 1,000 variants (~3 minutes)
    python -m bench.run --only backtest --quick   the trusted-ETAs backtest on 60 days (two runs of ~2 minutes)
    python -m bench.run --only reorder --update-results      the reorder-advice backtest over a simulated year (~1 minute)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench import backtest, engine, feeds, intake, reorder, storefront, sync
from bench.machine import machine_summary
from bench.report import RESULTS_PATH, Section, update_results, write_results

NAMES = ("engine", "intake", "sync", "bulk", "push", "feeds", "storefront", "backtest", "reorder")


def _guarded(title: str, work: Callable[[], Section]) -> Section:
    """A benchmark that fails is reported as failed in RESULTS.md instead of stopping the others."""
    print(f"\n== {title}", flush=True)
    load = os.getloadavg()[0]
    try:
        section = work()
        section.note(f"load average (1 min) when this benchmark started: {load:.2f} on {os.cpu_count()} core(s); "
                     "other work on the machine inflates times and latencies")
        return section
    except Exception as error:  # noqa: BLE001 - a broken benchmark must not hide the others' figures
        traceback.print_exc()
        section = Section(title, verdict="not measured")
        section.note(f"the benchmark failed: {type(error).__name__}: {str(error)[:300]}")
        return section


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(NAMES), help=f"comma-separated subset of {', '.join(NAMES)}")
    parser.add_argument("--full", action="store_true", help="the issue's full sizes, however long they take")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run; RESULTS.md is not written")
    parser.add_argument("--update-results", action="store_true",
                        help="with --only: replace just those benchmarks' sections in RESULTS.md")
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(chosen) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    # A plain SIGTERM would skip the `finally` blocks that stop the servers and load generators.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    machine = machine_summary()
    print(f"machine: {machine}", flush=True)
    started = time.monotonic()
    quick = options.quick
    sections: list[Section] = []
    if "engine" in chosen:
        sections.append(_guarded("1. Engine", lambda: engine.run(orders=2_000 if quick else 100_000)))
    if "intake" in chosen:
        sections.append(_guarded("2. Webhook intake", lambda: intake.run(round_seconds=2 if quick else intake.ROUND_SECONDS)))
    with ThreadPoolExecutor(max_workers=1) as pool:
        if "sync" in chosen:
            # 100,000 orders take several minutes to build in the sandbox and to store; see RESULTS.md.
            largest = 3_000 if quick else 100_000
            background = (largest, sync.start_memory_run(pool, largest))
            sections.append(_guarded("3. Sync", lambda: sync.run_sync(
                target_orders=500 if quick else 10_000, budget_seconds=10 if quick else (10_000 if options.full else 100),
                memory_counts=(1_000, 2_000) if quick else (1_000, 10_000), background=background)))
        if "bulk" in chosen:
            sections.append(_guarded("3b. First sync from ungrouped bulk output",
                                     lambda: sync.run_bulk(orders=3_000 if quick else 100_000)))
        if "push" in chosen:
            sections.append(_guarded("4. Push-back", lambda: sync.run_push(orders=100 if quick else 1_000)))
    if "feeds" in chosen:
        sections.append(_guarded("5. Supplier feed import", lambda: feeds.run(rows=100_000 if quick else feeds.ROWS)))
    if "storefront" in chosen:
        sections.append(_guarded("6. Storefront ETA", lambda: storefront.run(variants=100 if quick else storefront.VARIANTS)))
    if "backtest" in chosen:
        sections.append(_guarded("7. Trusted ETAs backtest", lambda: backtest.run(
            days=60 if quick else 730, orders=1_640 if quick else 20_000)))
    if "reorder" in chosen:
        sections.append(_guarded("8. Reorder advice backtest", lambda: reorder.run(days=60 if quick else reorder.DAYS)))
    elapsed = time.monotonic() - started
    print(f"\nall benchmarks done in {elapsed / 60:.1f} minutes", flush=True)
    if options.update_results and not quick and set(chosen) != set(NAMES):
        path = update_results(sections, machine, elapsed)
        print(f"sections {', '.join(s.title for s in sections)} replaced in {path.relative_to(RESULTS_PATH.parent.parent)}")
        return
    if quick or set(chosen) != set(NAMES):
        print("partial or quick run: bench/RESULTS.md left as it was")
        for section in sections:
            print("\n" + section.markdown())
        return
    path = write_results(sections, machine, elapsed)
    print(f"results written to {path.relative_to(RESULTS_PATH.parent.parent)}")


if __name__ == "__main__":
    main()
