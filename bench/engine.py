"""Benchmark 1: `connector plan --json` over 100,000 generated orders, against `json.load` of the same file."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.engine_data import EngineInputs, generate
from bench.machine import python_child, ratio, run_child
from bench.report import Section, fmt_ratio, fmt_seconds

REPEATS = 3
GOAL_RATIO = 2.0


def _child(kind: str, inputs: EngineInputs) -> tuple[float, float]:
    """(best seconds, peak RSS MB of that run) over REPEATS fresh processes."""
    args = [kind, str(inputs.orders)]
    if kind == "plan":
        args += [inputs.as_of.isoformat(), str(inputs.inventory), *map(str, inputs.feeds)]
    runs = [json.loads(python_child("bench.engine_child", *args).stdout) for _ in range(REPEATS)]
    best = min(runs, key=lambda run: run["seconds"])
    return best["seconds"], max(run["peak_rss_mb"] for run in runs)


def run(work_dir: Path | None = None, *, orders: int = 100_000) -> Section:
    """Benchmark 1; generated files go to `work_dir`, or to a temporary folder removed afterwards."""
    if work_dir is not None:
        return _run(work_dir, orders)
    directory = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        return _run(directory, orders)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _run(directory: Path, orders: int) -> Section:
    section = Section("1. Engine: `connector plan --json`",
                      goal=f"plan within {GOAL_RATIO:.0f}× the time to `json.load` the same orders file")
    inputs = generate(directory, orders=orders)
    size_mb = inputs.orders.stat().st_size / 2**20
    section.note(f"data: {inputs.order_count:,} open orders in Shopify webhook JSON ({size_mb:.0f} MiB), "
                 f"{inputs.line_count:,} lines, {inputs.sku_count:,} SKUs, stock CSV for every SKU, "
                 f"{inputs.feed_rows:,} supplier feed rows in {len(inputs.feeds)} feeds")

    load_seconds, load_rss = _child("json", inputs)
    plan_seconds, plan_rss = _child("plan", inputs)
    plan_ratio = ratio(plan_seconds, load_seconds)
    section.add("plan (in-process, click command)", fmt_seconds(plan_seconds), fmt_seconds(load_seconds),
                fmt_ratio(plan_ratio))
    section.add("peak memory (RSS)", f"{plan_rss:.0f} MiB", f"{load_rss:.0f} MiB", fmt_ratio(ratio(plan_rss, load_rss)))

    command = [sys.executable, "-m", "connector", "plan", "--platform", "shopify", "--orders", str(inputs.orders),
               "--inventory", str(inputs.inventory), "--as-of", inputs.as_of.isoformat(), "--json"]
    for feed in inputs.feeds:
        command += ["--feed", str(feed)]
    output = directory / "plan.json"
    whole = run_child(command, stdout_path=str(output))
    section.add("`connector plan --json > file` (whole process: start-up, imports, output)",
                fmt_seconds(whole.seconds), fmt_seconds(load_seconds), fmt_ratio(ratio(whole.seconds, load_seconds)))
    section.add("peak memory of that process", f"{whole.peak_rss_mb:.0f} MiB")
    section.note(f"plan output: {output.stat().st_size / 2**20:.0f} MiB of JSON")
    section.note(f"reference: `json.load` of the orders file in a fresh process; best of {REPEATS} runs each")
    section.verdict = "met" if plan_ratio <= GOAL_RATIO else f"missed ({fmt_ratio(plan_ratio)})"
    return section
