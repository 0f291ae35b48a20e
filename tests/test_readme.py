"""Every shell command README.md shows runs as written (issue 14, finding 9).

The walk runs each ```sh block of the README in order, in a fresh copy of the project folder (the
project's files linked in, no `data/` and no `.env`), with the virtual environment active, the way a
newcomer following the README would. Commands that need a live store run against the sandbox stores
the README itself starts. A block may be marked just above it in the source:

    <!-- readme-walk: skip: REASON -->             not run (only `make test`, production, Docker and the
                                                      Shopify CLI's deploy)
    <!-- readme-walk: background: waits for ... -->  each line runs in the background until the walk
                                                      ends; the walk goes on once every "text" has been
                                                      printed, every host:port accepts connections and
                                                      every http URL answers 200 ("stops once ready"
                                                      stops them at that point)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BLOCK = re.compile(r"(?:<!-- readme-walk: (?P<mode>skip|background): (?P<note>[^>]*?) -->\n)?```sh\n(?P<body>.*?)```",
                   re.S)
NOT_LINKED = {".git", "data", ".env", "__pycache__", ".pytest_cache", ".hypothesis", "build", "tests"}
ALLOWED_SKIPS = 4  # `make test` itself, the production example, Docker, `shopify app deploy`
COMMAND_TIMEOUT = 240.0
READY_TIMEOUT = 120.0


@dataclass
class Block:
    mode: str  # "run", "skip" or "background"
    note: str
    commands: list[str] = field(default_factory=list)


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in BLOCK.finditer(text):
        commands, pending = [], ""
        for line in match.group("body").splitlines():
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            command = (pending + line).strip()
            pending = ""
            if command and not command.startswith("#"):
                commands.append(command)
        blocks.append(Block(match.group("mode") or "run", (match.group("note") or "").strip(), commands))
    return blocks


def _environment() -> dict[str, str]:
    """A newcomer's shell with the venv active: no connector settings, no test database."""
    keep = ("HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR", "PIP_CONFIG_FILE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    venv = Path(sys.executable).parent
    env["PATH"] = f"{venv}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(venv.parent)
    return env


def _fresh_project(root: Path) -> Path:
    """The project's folders linked in, its files copied (with their times, so make sees the venv as
    current): a command that writes a file at the top (`shopify app-config`) writes the copy."""
    project = root / "project"
    project.mkdir()
    for entry in REPO.iterdir():
        if entry.name in NOT_LINKED:
            continue
        if entry.is_file():
            shutil.copy2(entry, project / entry.name)
        else:
            (project / entry.name).symlink_to(entry)
    return project


def _ready(note: str, output: Path, deadline: float) -> None:
    texts = re.findall(r'"([^"]+)"', note)
    urls = re.findall(r"https?://[^\s;,)]+", note)
    ports = [item for item in re.findall(r"\b([\w.-]+:\d+)\b(?!/)", note) if not any(item in url for url in urls)]
    while time.monotonic() < deadline:
        printed = output.read_text(errors="replace") if output.exists() else ""
        if all(text in printed for text in texts) and all(_listening(p) for p in ports) and all(_answers(u) for u in urls):
            return
        time.sleep(0.5)
    raise AssertionError(f"not ready within {READY_TIMEOUT:.0f} s ({note}); its output:\n"
                         f"{output.read_text(errors='replace')[-3000:] if output.exists() else ''}")


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        return requests.get(url.rstrip(".,)"), timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue


class _Started(Exception):
    def __init__(self, port: int | None) -> None:
        self.port = port


def test_the_demo_port_the_readme_states_is_the_one_the_demo_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import sandbox.demo_command as command

    text = README.read_text()
    assert "`make demo DEMO_ARGS=--keep-running`: the dashboard\nthen stays up at http://127.0.0.1:8000/" in text

    def started(_data_dir: Path, *, port: int | None = None) -> None:
        raise _Started(port)

    monkeypatch.setattr(command, "run_demo", started)
    ports = []
    for args in ([], ["--keep-running"], ["--keep-running", "--port", "8080"]):
        result = CliRunner().invoke(command.demo_command, args)
        assert isinstance(result.exception, _Started)
        ports.append(result.exception.port)
    assert ports == [None, 8000, 8080]  # a free port of its own, else 8000 or the one asked for


def test_the_readme_blocks_are_found_and_marked_sparingly() -> None:
    blocks = readme_blocks(README.read_text())
    assert sum(len(block.commands) for block in blocks) >= 30
    skipped = [block for block in blocks if block.mode == "skip"]
    assert len(skipped) <= ALLOWED_SKIPS and all(block.note for block in skipped)
    assert [block.commands[0].split()[:2] for block in skipped][0] == ["make", "test"]


@pytest.mark.timeout(900)
def test_every_shell_command_in_the_readme_runs_as_written(tmp_path: Path) -> None:
    project = _fresh_project(tmp_path)
    env = _environment()
    # A stale install would make `make demo` reinstall the project from this temporary copy.
    fresh = subprocess.run(["make", "-q", ".venv/.installed"], cwd=project, env=env, capture_output=True)
    assert fresh.returncode == 0, "the venv is older than pyproject.toml: run `make install` first"
    running: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        for number, block in enumerate(readme_blocks(README.read_text()), 1):
            if block.mode == "skip":
                print(f"block {number} not run ({block.note}): {block.commands[0]}")
                continue
            if block.mode == "background":
                started = []
                for index, command in enumerate(block.commands):
                    output = logs / f"block{number}-{index}.log"
                    with output.open("wb") as sink:
                        process = subprocess.Popen(["bash", "-c", command], cwd=project, env=env, stdout=sink,
                                                   stderr=subprocess.STDOUT, start_new_session=True)
                    started.append((process, output))
                    running.append(process)  # stopped in the end, whatever happens
                combined = logs / f"block{number}.log"
                deadline = time.monotonic() + READY_TIMEOUT
                while True:
                    combined.write_text("".join(path.read_text(errors="replace") for _, path in started))
                    for process, path in started:
                        assert process.poll() is None, f"`{block.commands}` ended early:\n{path.read_text()[-3000:]}"
                    try:
                        _ready(block.note, combined, min(deadline, time.monotonic() + 1))
                        break
                    except AssertionError:
                        if time.monotonic() >= deadline:
                            raise
                if "stops once ready" in block.note:
                    for process, _ in started:
                        _stop(process)
                continue
            for command in block.commands:
                began = time.monotonic()
                result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=project, env=env,
                                        capture_output=True, timeout=COMMAND_TIMEOUT)
                assert result.returncode == 0, (
                    f"README block {number}: `{command}` exited {result.returncode}:\n"
                    f"{result.stdout.decode(errors='replace')[-3000:]}\n{result.stderr.decode(errors='replace')[-3000:]}")
                print(f"block {number}: {time.monotonic() - began:5.1f} s  {command[:90]}")
    finally:
        for process in running:
            _stop(process)
    # What the walk-through promises: a fresh data folder under the project, the notices in its outbox.
    assert (project / "data" / "connector.db").exists() and list((project / "data" / "outbox").glob("*.eml"))
