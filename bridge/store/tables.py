"""SQLAlchemy Core tables of the bridge; Alembic migrations under `migrations/` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
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
    # The reconciler's due transfers (RCVD, PDNG; oldest first) and the unsettled gauge: a few
    # rows among millions of settled ones, found without reading the others.
    Index("ix_transfers_status_created", "status", "created_at"),
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

# -- scheduled sync: the transactional outbox ---------------------------------------------------

# Work bound for an upstream, written in the same transaction as the data it comes from.
# `key` is the idempotency key the upstream deduplicates on (RecordId, OrderRef, DocumentId).
outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("topic", String(32), nullable=False),  # payroll | shipments | classification
    Column("key", String(128), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("status", String(10), nullable=False),  # pending | claimed | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", DateTime(timezone=True), nullable=False),  # not retried before
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("result", Text),  # JSON summary of what the upstream answered
    Column("correlation_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("topic", "key", name="uq_outbox_topic_key"),
    Index("ix_outbox_claimable", "topic", "status", "available_at"),
    Index("ix_outbox_status_id", "status", "id"),  # dead letters across jobs, by id
)

# One row per run of a sync job, scheduled or by hand.
job_runs = Table(
    "job_runs",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("job", String(32), nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule | join | manual | api | ui
    Column("node", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("claimed", Integer, nullable=False, default=0),
    Column("delivered", Integer, nullable=False, default=0),
    Column("retried", Integer, nullable=False, default=0),
    Column("dead", Integer, nullable=False, default=0),
    Column("error", Text),
    Index("ix_job_runs_job_started", "job", "started_at"),
)

# -- HR, shipments, classifications ---------------------------------------------------------------

employees = Table(
    "employees",
    metadata,
    Column("employee_no", String(16), primary_key=True),
    Column("record", Text, nullable=False),  # canonical JSON of the latest EmployeeChange
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

shipments = Table(
    "shipments",
    metadata,
    Column("shipment_ref", String(35), primary_key=True),
    Column("order_ref", String(35), nullable=False, unique=True),
    Column("partner_id", String(64), nullable=False),  # the logistics partner it belongs to
    Column("order", Text, nullable=False),  # canonical JSON of the ShipmentOrder
    Column("status", String(20)),  # of the latest event by event time; None until one arrives
    Column("tracking_no", String(35)),
    Column("label_url", Text),
    Column("estimated_delivery", Date),
    Column("last_event_time", DateTime(timezone=True)),
    Column("booked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_shipments_status", "status"),
    Index("ix_shipments_created", "created_at", "shipment_ref"),  # list paging
)

delivery_events = Table(
    "delivery_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column(
        "shipment_ref", String(35), ForeignKey("shipments.shipment_ref"), nullable=False, index=True
    ),
    Column("event_key", String(64), nullable=False, unique=True),  # duplicates are not applied
    Column("status", String(20), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("event", Text, nullable=False),  # canonical JSON of the DeliveryEvent
    Column("received_at", DateTime(timezone=True), nullable=False),
)

classifications = Table(
    "classifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(64), nullable=False, unique=True),
    Column("request", Text, nullable=False),  # canonical JSON of the ClassificationRequest
    Column("status", String(12), nullable=False),  # queued | classified | dead
    Column("label", String(64)),
    Column("confidence", String(8)),  # exact decimal text, e.g. "0.8125"
    Column("entities", Text),  # JSON list
    Column("model_version", String(64)),
    Column("needs_review", Boolean),  # confidence under the threshold: a human looks
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("classified_at", DateTime(timezone=True)),
    Index("ix_classifications_created", "created_at", "id"),  # list paging
    Index("ix_classifications_review", "needs_review", "created_at"),  # the review queue
)

# Accounts whose statements a partner may read (`bridge.security.links`): linked to one API
# client (holder_kind "client", holder its id) or to an organisation ("organisation", its name),
# which every client of that organisation reads. Private clients read every account.
account_links = Table(
    "account_links",
    metadata,
    Column("holder_kind", String(12), primary_key=True),  # client | organisation
    Column("holder", String(100), primary_key=True),
    Column("account", String(34), primary_key=True),  # IBAN or other id, as core banking has it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_account_links_account", "account"),
)

# Simulator state lives in its own module and its own `sim_` tables.
from bridge.store import audit_tables as audit_tables  # noqa: E402
from bridge.store import security_tables as security_tables  # noqa: E402
from bridge.store import sim_tables as sim_tables  # noqa: E402
