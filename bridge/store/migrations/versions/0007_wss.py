"""WS-Security: a sealed UsernameToken password per API client, and the nonces seen lately
(bridge/store/security_tables.py).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("wss_password", sa.Text(), nullable=True))
    op.create_table(
        "wss_nonces",
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name=op.f("pk_wss_nonces")),
    )
    op.create_index(op.f("ix_wss_nonces_expires_at"), "wss_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_wss_nonces_expires_at"), table_name="wss_nonces")
    op.drop_table("wss_nonces")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("wss_password")
