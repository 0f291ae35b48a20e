"""cancellations: the customer's cancel (or the mail-order rule's) carried out as a refund, with approvals

Revision ID: 0004_cancellations
Revises: 0003_operators
Create Date: 2026-12-04 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.models


revision = '0004_cancellations'
down_revision = '0003_operators'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cancellations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('whole_order', sa.Boolean(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('refund_due_by', sa.Date(), nullable=False),
    sa.Column('requested_at', connector.store.models.UTCDateTime(), nullable=False),
    sa.Column('decided_at', connector.store.models.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('refund_amount', sa.String(length=40), nullable=True),
    sa.Column('currency', sa.String(length=10), nullable=True),
    sa.Column('refund_ref', sa.String(length=200), nullable=True),
    sa.Column('refunded_at', connector.store.models.UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_cancellations_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_cancellations_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cancellations')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_cancellations_idempotency_key')),
    sa.UniqueConstraint('order_id', name=op.f('uq_cancellations_order_id'))
    )
    with op.batch_alter_table('cancellations', schema=None) as batch_op:
        batch_op.create_index('ix_cancellations_shop_status', ['shop_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cancellations', schema=None) as batch_op:
        batch_op.drop_index('ix_cancellations_shop_status')
    op.drop_table('cancellations')
