"""Account links: which accounts' statements a partner client or organisation may read
(bridge/store/tables.py `account_links`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("holder_kind", sa.String(length=12), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("account", sa.String(length=34), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder_kind", "holder", "account", name=op.f("pk_account_links")),
    )
    op.create_index("ix_account_links_account", "account_links", ["account"])


def downgrade() -> None:
    op.drop_index("ix_account_links_account", table_name="account_links")
    op.drop_table("account_links")
