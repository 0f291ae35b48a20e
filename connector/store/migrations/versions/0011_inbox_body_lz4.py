"""inbox bodies compressed with lz4 on PostgreSQL: the intake's INSERT spends less server CPU per delivery (issue 16)

Revision ID: 0011_inbox_body_lz4
Revises: 0010_feed_credentials
Create Date: 2026-12-06 20:10:00.000000

A delivery body (an order's JSON, 2-10 KB) is past PostgreSQL's 2 KB TOAST threshold, so every INSERT
compresses it; the default, pglz, cost about 230 us of server CPU per delivery against 200 us with lz4
(3,000 INSERTs of a 3 KB body each way, measured on the backend). Only the method of new values
changes: rows already stored stay as they are and read back the same. Servers without lz4 (before
PostgreSQL 14, or built without it) and SQLite are left alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_inbox_body_lz4'
down_revision = '0010_feed_credentials'
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods = bind.execute(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return bool(methods) and "lz4" in methods


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE inbox ALTER COLUMN body SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE inbox ALTER COLUMN body SET COMPRESSION DEFAULT")
