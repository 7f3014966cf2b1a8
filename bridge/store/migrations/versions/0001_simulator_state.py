"""Simulator state: calls, effects, injected faults, the core banking ledger, payroll employees.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Hand-written to match `bridge/store/sim_tables.py` (autogenerate compares clean). Seed data is
not written here: `bridge.sims.seed` loads it from data files at start-up, idempotently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sim_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("fault", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_calls")),
    )
    op.create_index("ix_sim_calls_system_operation", "sim_calls", ["system", "operation"])
    op.create_index("ix_sim_calls_system_key", "sim_calls", ["system", "idempotency_key"])

    op.create_table(
        "sim_effects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_effects")),
        sa.UniqueConstraint(
            "system", "scope", "idempotency_key", name="uq_sim_effects_system_scope_key"
        ),
    )

    op.create_table(
        "sim_faults",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("remaining >= 0", name=op.f("ck_sim_faults_remaining_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_faults")),
    )
    op.create_index("ix_sim_faults_system", "sim_faults", ["system"])

    op.create_table(
        "sim_accounts",
        sa.Column("account_no", sa.String(length=34), nullable=False),
        sa.Column("holder", sa.String(length=140), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("account_no", name=op.f("pk_sim_accounts")),
    )

    op.create_table(
        "sim_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=35), nullable=False),
        sa.Column("account_no", sa.String(length=34), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("direction", sa.String(length=1), nullable=False),
        sa.Column("counterparty_name", sa.String(length=140), nullable=False),
        sa.Column("narrative", sa.String(length=140), nullable=True),
        sa.Column("payment_id", sa.String(length=35), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_no"],
            ["sim_accounts.account_no"],
            name=op.f("fk_sim_entries_account_no_sim_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_sim_entries_entry_id")),
    )
    op.create_index("ix_sim_entries_account_date", "sim_entries", ["account_no", "booking_date"])

    op.create_table(
        "sim_employees",
        sa.Column("employee_no", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("employee_no", name=op.f("pk_sim_employees")),
    )


def downgrade() -> None:
    op.drop_table("sim_employees")
    op.drop_index("ix_sim_entries_account_date", table_name="sim_entries")
    op.drop_table("sim_entries")
    op.drop_table("sim_accounts")
    op.drop_index("ix_sim_faults_system", table_name="sim_faults")
    op.drop_table("sim_faults")
    op.drop_table("sim_effects")
    op.drop_index("ix_sim_calls_system_key", table_name="sim_calls")
    op.drop_index("ix_sim_calls_system_operation", table_name="sim_calls")
    op.drop_table("sim_calls")
