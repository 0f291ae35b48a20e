"""operators in control: feed import history and refusals, held reconciles, shop health and pause, notices as sent

Revision ID: 0003_operators
Revises: 0002_shopify_2026
Create Date: 2026-12-04 18:45:21.910516
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.models


revision = '0003_operators'
down_revision = '0002_shopify_2026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('held_reconciles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('change_key', sa.String(length=64), nullable=False),
    sa.Column('notices', sa.Integer(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('decided_at', connector.store.models.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_held_reconciles_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_reconciles'))
    )
    with op.batch_alter_table('held_reconciles', schema=None) as batch_op:
        batch_op.create_index('ix_held_reconciles_shop_status', ['shop_id', 'status'], unique=False)

    op.create_table('feed_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_feed_imports_supplier_id_suppliers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_imports'))
    )
    with op.batch_alter_table('feed_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_imports_supplier_id'), ['supplier_id'], unique=False)

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rendered', sa.JSON(), nullable=True))

    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', connector.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_ok_at', connector.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_failed_at', connector.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sync_hint', sa.Text(), nullable=True))

    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rejected_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refused_at', connector.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('refused_reason', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_column('refused_reason')
        batch_op.drop_column('refused_at')
        batch_op.drop_column('rejected_count')
        batch_op.drop_column('unit_count')

    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('sync_hint')
        batch_op.drop_column('sync_error')
        batch_op.drop_column('sync_failed_at')
        batch_op.drop_column('sync_ok_at')
        batch_op.drop_column('disabled_at')

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('rendered')

    with op.batch_alter_table('feed_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_imports_supplier_id'))

    op.drop_table('feed_imports')
    with op.batch_alter_table('held_reconciles', schema=None) as batch_op:
        batch_op.drop_index('ix_held_reconciles_shop_status')

    op.drop_table('held_reconciles')
