"""Tables of the four upstream simulators (`bridge.sims`), all named `sim_*`.

They live in the bridge's database so that what a simulator received, applied and still has to
inject survives a restart of the process (a test kills the bridge mid-batch and then reads them),
and so that several workers or nodes share one simulator state.

- `sim_calls`: every SOAP call a simulator received, answered or not.
- `sim_effects`: the first effect per (system, scope, idempotency key), with the request it came
  from and the response it got; a duplicate is answered from here and never applied again.
- `sim_faults`: injected faults still to be served to the next calls.
- `sim_accounts`, `sim_entries`: the core banking ledger (balances and statement entries).
- `sim_employees`: the payroll system's employees.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Constraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from bridge.store.tables import metadata


def _of_each_simulator(name: str, *columns: Column[Any] | Index | Constraint) -> Table:
    """A table that every simulator keeps rows in: a row id, then the simulator (`system`)."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("system", String(16), nullable=False),
        *columns,
    )


sim_calls = _of_each_simulator(
    "sim_calls",
    Column("operation", String(64), nullable=False),
    Column("idempotency_key", String(64), nullable=True),
    # True when the call was answered from a stored effect and applied nothing.
    Column("duplicate", Boolean, nullable=False),
    # The injected fault kind that answered or delayed this call, if any.
    Column("fault", String(16), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # A short description: the request's key fields and the outcome.
    Column("summary", JSON, nullable=False),
    Index("ix_sim_calls_system_operation", "system", "operation"),
    Index("ix_sim_calls_system_key", "system", "idempotency_key"),
)

sim_effects = _of_each_simulator(
    "sim_effects",
    # What the key identifies: payment, record, batch, order, document.
    Column("scope", String(16), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("operation", String(64), nullable=False),
    # SHA-256 of the canonical JSON of the request: a duplicate with another body is a conflict.
    Column("request_digest", String(64), nullable=False),
    Column("request", JSON, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("system", "scope", "idempotency_key", name="uq_sim_effects_system_scope_key"),
)

sim_faults = _of_each_simulator(
    "sim_faults",
    Column("kind", String(16), nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("seconds", Float, nullable=True),
    # "request": instead of handling the call; "response": after handling it (effect applied).
    Column("stage", String(8), nullable=False),
    # Only calls of this operation consume the fault; NULL means any operation.
    Column("operation", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    Index("ix_sim_faults_system", "system"),
)

sim_accounts = Table(
    "sim_accounts",
    metadata,
    Column("account_no", String(34), primary_key=True),
    Column("holder", String(140), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("status", String(8), nullable=False),
)

sim_entries = Table(
    "sim_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(35), nullable=False, unique=True),
    Column("account_no", String(34), ForeignKey("sim_accounts.account_no"), nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("direction", String(1), nullable=False),
    Column("counterparty_name", String(140), nullable=False),
    Column("narrative", String(140), nullable=True),
    Column("payment_id", String(35), nullable=True),
    Index("ix_sim_entries_account_date", "account_no", "booking_date"),
)

sim_employees = Table(
    "sim_employees",
    metadata,
    Column("employee_no", String(16), primary_key=True),
    Column("status", String(10), nullable=False),
    # The last accepted record in its wire form (names, salary, hours, bank account, dates).
    Column("record", JSON, nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
