"""dashboard session versions: logout ends every saved copy of a session (issue 13)

Revision ID: 0008_session_versions
Revises: 0007_storefront_eta
Create Date: 2026-12-04 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_session_versions'
down_revision = '0007_storefront_eta'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_versions',
    sa.Column('subject', sa.String(length=50), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('subject', name=op.f('pk_session_versions'))
    )


def downgrade() -> None:
    op.drop_table('session_versions')
