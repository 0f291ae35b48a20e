"""Terminal output shared by the commands: one rich console that does not squeeze tables in pipes."""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 180


def console(*, stderr: bool = False) -> Console:
    """A console for tables; in a pipe or CI log it is wide enough not to fold ids and domains."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else PIPE_WIDTH, highlight=False)
