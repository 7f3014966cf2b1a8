"""The audit log's table (`bridge.store.audit`): one row per call on a door, sync delivery,
admin action and security event, never changed once written.

Append-only is enforced by the database, not only by the code: migration 0006 adds triggers that
refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) on `audit_log`, so neither a bug nor an
operator's stray statement can rewrite history. There is no retention: the bridge never deletes
an audit row (README, "Audit log", says how to archive).

`detail` and `resource_id` are masked before they are written (secrets, IBANs): nothing here
holds a secret.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Integer, String, Table, Text

from bridge.store.tables import metadata

audit_log = Table(
    "audit_log",
    metadata,
    # Integer on SQLite, so that it is the rowid and autoincrements.
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("client_id", String(64), index=True),  # the API client; None when nobody signed in
    Column("tier", String(8)),  # public | partner | private
    Column("interface", String(8), nullable=False),  # rest | soap | sync | admin | ui | cli
    Column("operation", String(120), nullable=False),  # route template, SOAP operation, job
    Column("resource_id", String(120)),
    # ok | client_error | unauthenticated | denied | not_found | rate_limited | server_error
    # | security_event
    Column("outcome", String(16), nullable=False),
    # HTTP status ("201"), SOAP faultcode ("soap:Client") or sync result ("delivered")
    Column("status", String(40), nullable=False),
    Column("latency_ms", Float),
    Column("source", String(64)),  # the caller's address (or user@host for the command line)
    Column("correlation_id", String(64)),
    Column("detail", Text),  # never a secret
)
