"""Child process of the engine benchmark: times one piece of work in-process and prints JSON figures.

    python -m bench.engine_child json ORDERS               json.load of the orders file (the reference)
    python -m bench.engine_child plan ORDERS INV FEED...   `connector plan --json` through its click command

Run in a fresh process each time so the peak resident memory belongs to that piece of work alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

from bench.machine import own_peak_rss_mb


def _time_json_load(orders: str) -> float:
    started = time.perf_counter()
    with open(orders, "rb") as handle:
        data = json.load(handle)
    seconds = time.perf_counter() - started
    assert isinstance(data, list)
    return seconds


def _time_plan(orders: str, inventory: str, feeds: list[str], as_of: str) -> float:
    from connector.commands.plan import plan_command

    args = ["--platform", "shopify", "--orders", orders, "--inventory", inventory, "--as-of", as_of, "--json"]
    for feed in feeds:
        args += ["--feed", feed]
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started = time.perf_counter()
        plan_command.main(args, standalone_mode=False)
        return time.perf_counter() - started


def main(argv: list[str]) -> None:
    kind, orders, *rest = argv
    if kind == "json":
        seconds = _time_json_load(orders)
    elif kind == "plan":
        as_of, inventory, *feeds = rest
        seconds = _time_plan(orders, inventory, feeds, as_of)
    else:
        raise SystemExit(f"unknown work {kind!r}")
    print(json.dumps({"seconds": seconds, "peak_rss_mb": own_peak_rss_mb()}))


if __name__ == "__main__":
    main(sys.argv[1:])
