"""Shopify as stores answer in 2026: staged bulk exports, withheld contacts, out-of-reach orders, webhook
status, deliveries recorded without their body

Revision ID: 0002_shopify_2026
Revises: 0001
Create Date: 2026-12-04 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = "0002_shopify_2026"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("started_at", connector.store.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", connector.store.models.UTCDateTime(), nullable=True),
        sa.Column("consumed_at", connector.store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_bulk_exports_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_exports")),
        sa.UniqueConstraint("shop_id", "operation_id", name="uq_bulk_exports_shop_operation"),
    )
    op.create_table(
        "bulk_export_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["bulk_exports.id"],
                                name=op.f("fk_bulk_export_rows_export_id_bulk_exports"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_export_rows")),
    )
    with op.batch_alter_table("bulk_export_rows", schema=None) as batch_op:
        batch_op.create_index("ix_bulk_export_rows_parent", ["export_id", "parent_id", "id"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_withheld", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("out_of_reach_at", connector.store.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_omitted", sa.Integer(), nullable=True))
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("status_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("checked_at", connector.store.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
        batch_op.drop_column("status_note")
        batch_op.drop_column("status")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("body_omitted")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("out_of_reach_at")
        batch_op.drop_column("contact_withheld")
    with op.batch_alter_table("bulk_export_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_bulk_export_rows_parent")
    op.drop_table("bulk_export_rows")
    op.drop_table("bulk_exports")
