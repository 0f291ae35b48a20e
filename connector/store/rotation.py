"""Re-seals every SecretBox-sealed value under the current CONNECTOR_SECRET_KEY (`connector db rotate-key`).

The sealed columns are the ones models mark with `info=SEALED` (shop credentials with their tokens,
refresh tokens, WooCommerce keys and webhook secrets; per-subscription webhook secrets; feed credentials),
so a new sealed column is rotated without a change here. All of it happens in the caller's transaction,
rows locked as they are read: when any value opens with neither the current nor the previous key, nothing
is written (the transaction is rolled back by the caller on the error). A value already under the current
key is left as it is, so a second run changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Column, select, update
from sqlalchemy.orm import Session

from connector.crypto import SecretBox
from connector.errors import ConfigError
from connector.store.models import Base

SHOWN_UNREADABLE = 10


def sealed_columns() -> list[Column[str]]:
    """Every column holding sealed text, as `table.column` in a stable order."""
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if column.info.get("sealed")]


@dataclass
class Rotation:
    """What a rotation did, per `table.column`: values re-sealed, and values already under the current key."""

    resealed: Counter[str] = field(default_factory=Counter)
    current: Counter[str] = field(default_factory=Counter)

    @property
    def resealed_total(self) -> int:
        return sum(self.resealed.values())

    @property
    def current_total(self) -> int:
        return sum(self.current.values())


def rotate_sealed(session: Session, box: SecretBox) -> Rotation:
    """Re-seal under the current key every value that opens only with the previous one; ConfigError (and the
    caller rolls back) when any opens with neither, naming where (never a value)."""
    rotation = Rotation()
    unreadable: list[str] = []
    for column in sealed_columns():
        table = column.table
        (key,) = table.primary_key.columns
        where = f"{table.name}.{column.name}"
        rows = session.execute(select(key, column).where(column.is_not(None)).order_by(key).with_for_update()).all()
        for row_id, value in rows:
            if not value:
                continue
            try:
                document, under_previous = box.open_reporting(value)
            except ConfigError:
                unreadable.append(f"{where} of row {row_id}")
                continue
            if not under_previous:
                rotation.current[where] += 1
                continue
            session.execute(update(table).where(key == row_id).values({column.name: box.seal(document)}))
            rotation.resealed[where] += 1
    if unreadable:
        shown = ", ".join(unreadable[:SHOWN_UNREADABLE]) + (" ..." if len(unreadable) > SHOWN_UNREADABLE else "")
        hint = ("" if box.has_previous else
                "; set the key they were sealed with as CONNECTOR_SECRET_KEY_PREVIOUS and run it again")
        raise ConfigError("CONNECTOR_SECRET_KEY", f"{len(unreadable)} sealed value(s) open with neither the current "
                                                  f"nor the previous key ({shown}); nothing was re-encrypted{hint}")
    return rotation
