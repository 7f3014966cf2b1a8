"""SQLAlchemy Core tables of the bridge; Alembic migrations under `migrations/` create them."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A transfer as either door received it, and how far it got. `tx_id` is also the externalRef
# core banking deduplicates on; (client_id, msg_id) is the partner's idempotency key.
transfers = Table(
    "transfers",
    metadata,
    Column("tx_id", String(35), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("msg_id", String(35), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the canonical request
    Column("request", Text, nullable=False),  # canonical JSON
    Column("door", String(8), nullable=False),  # soap | rest
    # RCVD until core banking answered; then ACCP | ACSC | PDNG | RJCT
    Column("status", String(4), nullable=False),
    Column("reason_code", String(4)),
    Column("reason_info", String(105)),
    Column("booking_date", Date),
    Column("payment_id", String(35)),
    Column("attempts", Integer, nullable=False, default=0),  # PostPayment calls sent
    Column("lease_until", DateTime(timezone=True)),  # held by the request working on it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("client_id", "msg_id", name="uq_transfers_client_msg"),
)

# REST `Idempotency-Key`: the first response, replayed for the same key and body.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # method, path and body
    Column("state", String(8), nullable=False),  # running | done
    Column("status_code", Integer),
    Column("content_type", String(100)),
    Column("headers", Text),  # JSON object of replayed headers
    Column("body", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# Simulator state lives in its own module and its own `sim_` tables.
from bridge.store import sim_tables as sim_tables  # noqa: E402
