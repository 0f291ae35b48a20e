"""line reasons: why each backordered line waits (supplier_delay, demand_surge, awaiting_restock, no_supplier_date)

Revision ID: 0006_line_reasons
Revises: 0005_trusted_etas
Create Date: 2026-12-04 22:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_line_reasons'
down_revision = '0005_trusted_etas'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('line_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('line_decisions', schema=None) as batch_op:
        batch_op.drop_column('reason')
