"""An ExportStore in memory, for a platform used without a database (tests, one-off scripts).

It behaves like the database-backed store (`connector.store.exports`) but holds a whole export's lines,
so the pipeline always hands platforms the database one: only that keeps a first sync's memory flat.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from connector.platforms.base import PendingExport, StagedRow


class MemoryExportStore:
    def __init__(self) -> None:
        self._pending: str | None = None
        self._finished: set[str] = set()
        self._rows: list[StagedRow] = []
        self.staged_operations: list[str] = []

    def pending(self) -> PendingExport | None:
        if self._pending is None:
            return None
        return PendingExport(self._pending, self._pending in self._finished)

    def remember(self, operation_id: str) -> None:
        self._pending = operation_id

    def mark_finished(self, operation_id: str) -> None:
        """What a finish webhook does to the database-backed store."""
        self._finished.add(operation_id)

    def finished(self, operation_id: str) -> bool:
        return operation_id in self._finished

    def stage(self, operation_id: str, rows: Iterable[StagedRow]) -> int:
        self.discard()
        if self._pending == operation_id:
            self._pending = None
        self._rows = list(rows)
        self.staged_operations.append(operation_id)
        return len(self._rows)

    def parents(self, operation_id: str, batch: int) -> Iterator[list[tuple[str, str]]]:
        roots = [(record_id, body) for record_id, parent, body in self._rows if parent is None]
        for start in range(0, len(roots), batch):
            yield roots[start:start + batch]

    def children(self, operation_id: str, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        wanted = set(parent_ids)
        found: dict[str, list[str]] = defaultdict(list)
        for _record_id, parent, body in self._rows:
            if parent in wanted:
                found[parent].append(body)
        return dict(found)

    def discard(self) -> None:
        self._rows = []
