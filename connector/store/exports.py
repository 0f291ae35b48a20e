"""The database-backed ExportStore: one shop's bulk exports in flight and their staged result lines.

A Shopify bulk result (ungrouped since 2026-01) may list a line item before or after its order, so its
lines are streamed into `bulk_export_rows` keyed by id and parent id and joined back in batches: memory
stays flat however large the file. Writes happen while the export is downloaded, before the first order
is handed to the sync; the reads that follow go through `Database.reading`, which takes no write lock,
because the sync's own session is meanwhile storing orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from itertools import islice

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from connector.platforms.base import PendingExport, StagedRow
from connector.store.db import Database
from connector.store.models import BulkExport, BulkExportRow, utcnow
from connector.store.repo import insert_or_ignore

STAGE_BATCH = 2000
KEEP_FINISHED = timedelta(days=30)


def record_export_finished(session: Session, shop_id: int, operation_id: str, status: str,
                           error_code: str | None) -> BulkExport | None:
    """What a finish webhook learns, in the caller's transaction; the export row if the connector knows it."""
    export = session.scalar(select(BulkExport).where(BulkExport.shop_id == shop_id,
                                                     BulkExport.operation_id == operation_id))
    if export is None:
        return None
    export.status = status[:20]
    export.error_code = error_code[:40] if error_code else None
    export.finished_at = export.finished_at or utcnow()
    return export


class DatabaseExportStore:
    """The ExportStore of one shop (see `connector.platforms.base.ExportStore`)."""

    def __init__(self, db: Database, shop_id: int) -> None:
        self.db = db
        self.shop_id = shop_id
        self._export_ids: dict[str, int] = {}

    def _export_id(self, operation_id: str) -> int:
        if operation_id not in self._export_ids:
            with self.db.reading() as connection:
                found = connection.scalar(select(BulkExport.id).where(BulkExport.shop_id == self.shop_id,
                                                                      BulkExport.operation_id == operation_id))
            if found is None:
                self.remember(operation_id)
                return self._export_ids[operation_id]
            self._export_ids[operation_id] = int(found)
        return self._export_ids[operation_id]

    def pending(self) -> PendingExport | None:
        with self.db.reading() as connection:
            row = connection.execute(
                select(BulkExport.operation_id, BulkExport.finished_at)
                .where(BulkExport.shop_id == self.shop_id, BulkExport.consumed_at.is_(None))
                .order_by(BulkExport.started_at.desc(), BulkExport.id.desc()).limit(1)
            ).first()
        return None if row is None else PendingExport(str(row[0]), row[1] is not None)

    def remember(self, operation_id: str) -> None:
        now = utcnow()
        with self.db.session() as session:
            # One export in flight per shop: an older one still pending was abandoned.
            session.execute(update(BulkExport)
                            .where(BulkExport.shop_id == self.shop_id, BulkExport.consumed_at.is_(None),
                                   BulkExport.operation_id != operation_id)
                            .values(consumed_at=now))
            session.execute(delete(BulkExport).where(BulkExport.shop_id == self.shop_id,
                                                     BulkExport.consumed_at < now - KEEP_FINISHED))
            insert_or_ignore(session, BulkExport.__table__,
                             {"shop_id": self.shop_id, "operation_id": operation_id[:200], "status": "RUNNING",
                              "started_at": now}, ("shop_id", "operation_id"))
            export_id = session.scalar(select(BulkExport.id).where(BulkExport.shop_id == self.shop_id,
                                                                   BulkExport.operation_id == operation_id[:200]))
        assert export_id is not None
        self._export_ids[operation_id] = int(export_id)

    def finished(self, operation_id: str) -> bool:
        with self.db.reading() as connection:
            return connection.scalar(
                select(BulkExport.finished_at.is_not(None))
                .where(BulkExport.shop_id == self.shop_id, BulkExport.operation_id == operation_id)
            ) is True

    def stage(self, operation_id: str, rows: Iterable[StagedRow]) -> int:
        export_id = self._export_id(operation_id)
        self.discard()
        with self.db.session() as session:
            # Read from now on: a run that dies while staging starts a fresh export next time.
            session.execute(update(BulkExport).where(BulkExport.id == export_id)
                            .values(consumed_at=utcnow(), status="COMPLETED"))
        count = 0
        lines = iter(rows)
        while batch := list(islice(lines, STAGE_BATCH)):
            with self.db.session() as session:
                session.execute(insert(BulkExportRow), [
                    {"export_id": export_id, "record_id": record_id[:200],
                     "parent_id": parent[:200] if parent else None, "body": body}
                    for record_id, parent, body in batch])
            count += len(batch)
        return count

    def parents(self, operation_id: str, batch: int) -> Iterator[list[tuple[str, str]]]:
        export_id = self._export_id(operation_id)
        after = 0
        while True:
            with self.db.reading() as connection:
                rows = connection.execute(
                    select(BulkExportRow.id, BulkExportRow.record_id, BulkExportRow.body)
                    .where(BulkExportRow.export_id == export_id, BulkExportRow.parent_id.is_(None),
                           BulkExportRow.id > after)
                    .order_by(BulkExportRow.id).limit(batch)
                ).all()
            if not rows:
                return
            after = rows[-1][0]
            yield [(str(record_id), str(body)) for _id, record_id, body in rows]
            if len(rows) < batch:
                return

    def children(self, operation_id: str, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        if not parent_ids:
            return {}
        export_id = self._export_id(operation_id)
        found: dict[str, list[str]] = {}
        with self.db.reading() as connection:
            rows = connection.execute(
                select(BulkExportRow.parent_id, BulkExportRow.body)
                .where(BulkExportRow.export_id == export_id, BulkExportRow.parent_id.in_(list(parent_ids)))
                .order_by(BulkExportRow.id)
            )
            for parent, body in rows:
                found.setdefault(str(parent), []).append(str(body))
        return found

    def discard(self) -> None:
        with self.db.session() as session:
            session.execute(delete(BulkExportRow).where(BulkExportRow.export_id.in_(
                select(BulkExport.id).where(BulkExport.shop_id == self.shop_id))))
