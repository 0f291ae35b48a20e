"""trusted ETAs: supply promises and their changes, receipts, settlements, what customers were told

Revision ID: 0005_trusted_etas
Revises: 0004_cancellations
Create Date: 2026-12-04 22:01:31.149435
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.models


revision = '0005_trusted_etas'
down_revision = '0004_cancellations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supply_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_key', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('unmatched', sa.Integer(), nullable=False),
    sa.Column('created_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_supply_receipts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_receipts')),
    sa.UniqueConstraint('receipt_key', name=op.f('uq_supply_receipts_receipt_key'))
    )
    with op.batch_alter_table('supply_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_receipts_sku'), ['sku'], unique=False)

    op.create_table('supply_promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('restock_date', sa.Date(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('first_promised_on', sa.Date(), nullable=False),
    sa.Column('slips', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('first_seen_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_supply_promises_supplier_id_suppliers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_promises')),
    sa.UniqueConstraint('supplier_id', 'sku', 'reference', name='uq_supply_promises_supplier_sku_reference')
    )
    with op.batch_alter_table('supply_promises', schema=None) as batch_op:
        batch_op.create_index('ix_supply_promises_sku_status', ['sku', 'status'], unique=False)
        batch_op.create_index('ix_supply_promises_supplier_status', ['supplier_id', 'status'], unique=False)

    op.create_table('line_promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('first_eta', sa.Date(), nullable=False),
    sa.Column('first_told_on', sa.Date(), nullable=False),
    sa.Column('latest_eta', sa.Date(), nullable=True),
    sa.Column('eta_earliest', sa.Date(), nullable=True),
    sa.Column('eta_latest', sa.Date(), nullable=True),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('ready_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_line_promises_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_line_promises_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_line_promises_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_line_promises')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_line_promises_order_line_id'))
    )
    with op.batch_alter_table('line_promises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_line_promises_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_line_promises_shop_outcome', ['shop_id', 'outcome'], unique=False)

    op.create_table('promise_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('old_promised_on', sa.Date(), nullable=False),
    sa.Column('new_promised_on', sa.Date(), nullable=False),
    sa.Column('old_quantity', sa.Integer(), nullable=True),
    sa.Column('new_quantity', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['promise_id'], ['supply_promises.id'], name=op.f('fk_promise_changes_promise_id_supply_promises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_changes'))
    )
    with op.batch_alter_table('promise_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promise_changes_promise_id'), ['promise_id'], unique=False)

    op.create_table('promise_settlements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('lateness_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['promise_id'], ['supply_promises.id'], name=op.f('fk_promise_settlements_promise_id_supply_promises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receipt_id'], ['supply_receipts.id'], name=op.f('fk_promise_settlements_receipt_id_supply_receipts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_settlements')),
    sa.UniqueConstraint('promise_id', 'receipt_id', name='uq_promise_settlements_promise_receipt')
    )
    with op.batch_alter_table('promise_settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promise_settlements_receipt_id'), ['receipt_id'], unique=False)

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_price', sa.Float(), nullable=True))

    with op.batch_alter_table('supply_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('supply_items', schema=None) as batch_op:
        batch_op.drop_column('reference')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('unit_price')

    with op.batch_alter_table('promise_settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promise_settlements_receipt_id'))

    op.drop_table('promise_settlements')
    with op.batch_alter_table('promise_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promise_changes_promise_id'))

    op.drop_table('promise_changes')
    with op.batch_alter_table('line_promises', schema=None) as batch_op:
        batch_op.drop_index('ix_line_promises_shop_outcome')
        batch_op.drop_index(batch_op.f('ix_line_promises_order_id'))

    op.drop_table('line_promises')
    with op.batch_alter_table('supply_promises', schema=None) as batch_op:
        batch_op.drop_index('ix_supply_promises_supplier_status')
        batch_op.drop_index('ix_supply_promises_sku_status')

    op.drop_table('supply_promises')
    with op.batch_alter_table('supply_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_receipts_sku'))

    op.drop_table('supply_receipts')
