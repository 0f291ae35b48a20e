"""What every benchmark shares: the machine's description, child-process timing with peak memory, ratios."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class ChildRun:
    """One finished child process: wall time, peak resident memory and what it printed."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    returncode: int


def machine_summary() -> str:
    """One line naming the CPU count, memory, OS and Python version of this run."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cpu = _cpu_model()
    return (f"{os.cpu_count()} CPU core(s){f' ({cpu})' if cpu else ''}, {pages / 2**30:.1f} GiB memory, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def run_child(args: list[str], *, stdout_path: str | None = None, env: dict[str, str] | None = None,
              timeout: float = 600) -> ChildRun:
    """Run `args` to completion; peak RSS comes from the kernel's accounting of that one child (wait4)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    started = time.perf_counter()
    try:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.PIPE, cwd=ROOT, env=env)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                raise TimeoutError(f"{args[:4]} did not finish in {timeout:.0f} s")
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout = "" if stdout_path else process.stdout.read().decode()  # type: ignore[union-attr]
        stderr = process.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])} failed ({process.returncode}): {stderr[-2000:]}")
    return ChildRun(seconds, usage.ru_maxrss / 1024, stdout, process.returncode)


def python_child(module: str, *args: str, **kwargs: object) -> ChildRun:
    """`python -m module args...` with this interpreter, measured by `run_child`."""
    return run_child([sys.executable, "-m", module, *args], **kwargs)  # type: ignore[arg-type]


def own_peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("inf")


def dump_json(data: object) -> str:
    return json.dumps(data, sort_keys=True)
