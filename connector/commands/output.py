"""Terminal output shared by the commands: wide tables in pipes, JSON for scripts, times, and confirmations."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from rich.console import Console

PIPE_WIDTH = 180


def console(*, stderr: bool = False) -> Console:
    """A console for tables; in a pipe or CI log it is wide enough not to fold ids and domains."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else PIPE_WIDTH, highlight=False)


def when(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC for JSON output (None stays None)."""
    return moment.isoformat() if moment else None


def print_json(value: object) -> None:
    """`value` as indented JSON on stdout: what every list command prints with --json."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive step unless `--yes`; no answer (a closed stdin) means no."""
    if yes:
        return
    if not click.confirm(f"{question}. Go ahead?", default=False, err=True):
        raise click.Abort()
