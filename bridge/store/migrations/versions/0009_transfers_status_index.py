"""An index for the reconciler: unfinished and pending transfers, oldest first, among the settled
ones (bridge/store/tables.py `ix_transfers_status_created`).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transfers_status_created", "transfers", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_transfers_status_created", table_name="transfers")
