"""HR changes bound for payroll: stored with their outbox rows in one transaction.

A change's record id is the key payroll applies it once by, so it is also the bridge's: a change
sent again with a record id already queued (a client's retry) is not queued twice, and a record
id already queued for another change is refused instead of reaching payroll, which would answer
the first change's result for the second.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bridge.domain import EmployeeChange
from bridge.domain.clock import utcnow
from bridge.domain.errors import Conflict, InvalidInput, KeyReused, MappingError, NotFound
from bridge.mapping import canonical_json
from bridge.mapping.scalars import Currencies, Invalid
from bridge.store.tables import employees
from bridge.store.tables import outbox as outbox_table
from bridge.sync import outbox

TOPIC = "payroll"
# Record ids looked up per statement (well under any database's limit of bound parameters).
_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class QueuedChange:
    """Where a change stands in the payroll queue: its outbox row and that row's state."""

    record_id: str
    delivery_id: int
    status: str


def new_record_id() -> str:
    return uuid.uuid4().hex


class HrService:
    def __init__(self, engine: Engine, currencies: Currencies) -> None:
        self._engine = engine
        self._currencies = currencies

    def record_changes(
        self, changes: Iterable[EmployeeChange], *, correlation_id: str | None = None
    ) -> list[EmployeeChange]:
        """Store each change as the employee's latest record and queue it for payroll, all in
        one transaction: every change is queued, or none is. A change without a record id gets
        one (the key payroll deduplicates on). A change whose record id is already queued with
        the same content is taken as a retry: answered, not stored or queued again.

        One call is one transaction and holds its changes in memory: bulk loads come in chunks
        (a thousand changes a call stores about 5,000 changes a second on SQLite)."""
        accepted = [self._checked(index, change) for index, change in enumerate(changes)]
        if not accepted:
            raise InvalidInput("no changes given")
        _distinct(accepted)
        now = utcnow()
        try:
            with self._engine.begin() as connection:
                earlier = _queued_payloads(connection, [c.record_id for c in accepted])
                for index, change in enumerate(accepted):
                    record = canonical_json.dumps(change).decode()
                    if change.record_id in earlier:
                        if earlier[change.record_id] != record:
                            raise KeyReused(
                                f"changes[{index}].record_id: {change.record_id!r} was already "
                                "queued for another change; use a new record id for a new change"
                            )
                        continue
                    self._upsert(connection, change.employee_no, record, now)
                    outbox.add(
                        connection,
                        topic=TOPIC,
                        key=change.record_id,
                        payload=record,
                        correlation_id=correlation_id,
                        now=now,
                    )
        except IntegrityError:
            # Only the outbox's unique (topic, key) can refuse these rows: another request is
            # queueing one of the same record ids right now. Its retry will find it queued.
            raise Conflict(
                "a change with one of these record ids is being queued by another request; "
                "retry the request"
            ) from None
        return accepted

    def queued(self, record_ids: Sequence[str]) -> dict[str, QueuedChange]:
        """The queue entries of these record ids, for the ones that are queued."""
        found: dict[str, QueuedChange] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(record_ids), _LOOKUP_CHUNK):
                rows = connection.execute(
                    select(outbox_table.c.key, outbox_table.c.id, outbox_table.c.status).where(
                        outbox_table.c.topic == TOPIC,
                        outbox_table.c.key.in_(record_ids[start : start + _LOOKUP_CHUNK]),
                    )
                )
                for key, row_id, status in rows:
                    found[key] = QueuedChange(record_id=key, delivery_id=row_id, status=status)
        return found

    def employee(self, employee_no: str) -> EmployeeChange:
        with self._engine.connect() as connection:
            record = connection.execute(
                select(employees.c.record).where(employees.c.employee_no == employee_no)
            ).scalar()
        if record is None:
            raise NotFound(f"no employee {employee_no!r}")
        return canonical_json.loads(EmployeeChange, record)

    def _checked(self, index: int, change: EmployeeChange) -> EmployeeChange:
        try:
            salary = self._currencies.canonical(change.salary.amount)
        except Invalid as exc:
            raise MappingError(f"changes[{index}].salary.amount", exc.expected, exc.got) from None
        record_id = change.record_id or new_record_id()
        return replace(change, record_id=record_id, salary=replace(change.salary, amount=salary))

    @staticmethod
    def _upsert(connection: Connection, employee_no: str, record: str, now: datetime) -> None:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(employees).values(
            employee_no=employee_no, record=record, created_at=now, updated_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[employees.c.employee_no],
                set_={"record": record, "updated_at": now},
            )
        )


def _distinct(changes: Sequence[EmployeeChange]) -> None:
    """Two changes of one call with one record id would be one record to payroll."""
    first: dict[str, int] = {}
    for index, change in enumerate(changes):
        earlier = first.setdefault(change.record_id, index)
        if earlier != index:
            raise MappingError(
                f"changes[{index}].record_id",
                f"a record id no other change of the request has (changes[{earlier}] has it)",
                change.record_id,
            )


def _queued_payloads(connection: Connection, record_ids: Sequence[str]) -> dict[str, str]:
    """{record id: queued payload} for the record ids already in the payroll queue."""
    found: dict[str, str] = {}
    for start in range(0, len(record_ids), _LOOKUP_CHUNK):
        rows = connection.execute(
            select(outbox_table.c.key, outbox_table.c.payload).where(
                outbox_table.c.topic == TOPIC,
                outbox_table.c.key.in_(record_ids[start : start + _LOOKUP_CHUNK]),
            )
        )
        found.update((key, payload) for key, payload in rows)
    return found
