"""storefront ETA: where each SKU's storefront reads it, and each SKU's availability ETA as pushed

Revision ID: 0007_storefront_eta
Revises: 0006_line_reasons
Create Date: 2026-12-04 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.models


revision = '0007_storefront_eta'
down_revision = '0006_line_reasons'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inventory_levels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storefront_ref', sa.String(length=100), nullable=True))
    op.create_table('storefront_etas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=True),
    sa.Column('available_now', sa.Integer(), nullable=False),
    sa.Column('eta', sa.Date(), nullable=True),
    sa.Column('eta_source', sa.String(length=300), nullable=True),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('decided_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('pushed_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('pushed_value', sa.JSON(), nullable=True),
    sa.Column('pushed_at', connector.store.models.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_storefront_etas_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storefront_etas')),
    sa.UniqueConstraint('shop_id', 'sku', name='uq_storefront_etas_shop_sku')
    )
    with op.batch_alter_table('storefront_etas', schema=None) as batch_op:
        batch_op.create_index('ix_storefront_etas_due', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('storefront_etas', schema=None) as batch_op:
        batch_op.drop_index('ix_storefront_etas_due')
    op.drop_table('storefront_etas')
    with op.batch_alter_table('inventory_levels', schema=None) as batch_op:
        batch_op.drop_column('storefront_ref')
