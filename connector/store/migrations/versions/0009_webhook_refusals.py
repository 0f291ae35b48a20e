"""webhook refusals: signed deliveries refused as stale or for naming another shop (issue 13)

Revision ID: 0009_webhook_refusals
Revises: 0008_session_versions
Create Date: 2026-12-04 23:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0009_webhook_refusals'
down_revision = '0008_session_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_refusals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('shop_domain', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_refusals'))
    )
    with op.batch_alter_table('webhook_refusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_refusals_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_refusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_refusals_at'))
    op.drop_table('webhook_refusals')
