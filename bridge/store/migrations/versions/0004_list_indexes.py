"""Indexes for paging lists: shipments, classifications (and the review queue), dead letters.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    op.create_index("ix_shipments_created", "shipments", ["created_at", "shipment_ref"])
    op.create_index("ix_classifications_created", "classifications", ["created_at", "id"])
    op.create_index("ix_classifications_review", "classifications", ["needs_review", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_classifications_review", table_name="classifications")
    op.drop_index("ix_classifications_created", table_name="classifications")
    op.drop_index("ix_shipments_created", table_name="shipments")
    op.drop_index("ix_outbox_status_id", table_name="outbox")
