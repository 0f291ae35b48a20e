"""Where a benchmark's CPU time goes: seconds per process kind, read from /proc before and after a run."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass


def _by_kind() -> dict[str, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                raw = handle.read()
        except OSError:
            continue  # the process ended meanwhile
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        kind = "postgres" if name.startswith("postgres") else "python" if name.startswith(("python", "gunicorn",
                                                                                               "connector")) else "other"
        kinds[kind] = kinds.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return kinds


def _children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuMeter:
    """CPU seconds by kind between `start()` and `stop()`: server processes (python), PostgreSQL, the load
    generator (children of this process that ended: wrk) and everything else."""

    _before: dict[str, float] | None = None
    _children_before: float = 0.0
    seconds: dict[str, float] | None = None

    def start(self) -> None:
        self._before, self._children_before = _by_kind(), _children()

    def stop(self) -> dict[str, float]:
        after = _by_kind()
        before = self._before or {}
        spent = {kind: max(0.0, value - before.get(kind, 0.0)) for kind, value in after.items()}
        spent["load generator"] = _children() - self._children_before
        self.seconds = spent
        return spent


def per_delivery(spent: dict[str, float], deliveries: int) -> str:
    """`python 352 µs, postgres 116 µs, …` per delivery, the largest first."""
    if deliveries <= 0:
        return "no deliveries"
    parts = sorted(spent.items(), key=lambda item: -item[1])
    return ", ".join(f"{kind} {seconds / deliveries * 1e6:,.0f} µs" for kind, seconds in parts if seconds >= 0.05)
