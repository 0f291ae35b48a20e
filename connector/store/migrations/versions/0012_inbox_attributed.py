"""deliveries stored under their shop domain alone are attributed to that shop, as the worker now does (issue 16)

Revision ID: 0012_inbox_attributed
Revises: 0011_inbox_body_lz4
Create Date: 2026-12-07 07:40:00.000000

The Shopify intake stores each delivery with no shop id and the worker attributes it before applying it.
Rows stored before that change with no shop id (the first seconds after an install, while the intake's
cached "no such shop" lasted, and deliveries that came before the install) were applied through their
domain but kept no shop id, so the dashboard showed them as "no shop" and a merchant could not replay
them. Each one whose platform and domain are an installed shop's gets that shop's id; the rest stay as
they are. Downgrade leaves the ids in place: they are true either way.
"""

from __future__ import annotations

from alembic import op

revision = '0012_inbox_attributed'
down_revision = '0011_inbox_body_lz4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE inbox SET shop_id = (SELECT shops.id FROM shops"
        " WHERE shops.platform = inbox.platform AND shops.domain = inbox.shop_domain)"
        " WHERE shop_id IS NULL AND EXISTS (SELECT 1 FROM shops"
        " WHERE shops.platform = inbox.platform AND shops.domain = inbox.shop_domain)"
    )


def downgrade() -> None:
    pass
