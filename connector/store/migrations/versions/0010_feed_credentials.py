"""feed credentials: a supplier feed's user name, password, secret headers and query values, sealed (issue 13)

Revision ID: 0010_feed_credentials
Revises: 0009_webhook_refusals
Create Date: 2026-12-06 01:10:00.000000

Schema only: moving credentials already written into stored feed URLs needs CONNECTOR_SECRET_KEY, which a
migration does not have, so `connector.feeds.credentials.seal_stored_sources` does it in `connector db upgrade`
with the key set (and reports it), and a refresh of such a feed splits them as it imports.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_feed_credentials'
down_revision = '0009_webhook_refusals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials', sa.Text(), nullable=True))


def downgrade() -> None:
    # The sealed credentials go with the column: feeds that need them must be imported again with them.
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_column('credentials')
