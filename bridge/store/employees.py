"""HR changes as stored: each employee's latest record, and the changes queued for payroll.

A change is stored as its employee's latest record and queued (topic ``payroll``, key = the
change's record id, which payroll applies each record once by) in the same transaction, so a
change is queued exactly when it is stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bridge.domain import EmployeeChange
from bridge.mapping import canonical_json
from bridge.store import outbox
from bridge.store.base import Store
from bridge.store.tables import employees
from bridge.store.tables import outbox as outbox_table

TOPIC = "payroll"
# Record ids looked up per statement (well under any database's limit of bound parameters).
_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class QueuedChange:
    """Where a change stands in the payroll queue: its outbox row and that row's state."""

    record_id: str
    delivery_id: int
    status: str


class EmployeeStore(Store):
    def add(self, changes: Sequence[EmployeeChange], *, correlation_id: str | None) -> bool:
        """Store each change as its employee's latest record and queue it for payroll, all in
        one transaction: every change is queued, or none is. False (and nothing stored) when
        one of their record ids is queued already, by a concurrent request."""
        now = self.clock()
        try:
            with self.engine.begin() as connection:
                for change in changes:
                    record = canonical_json.dumps(change).decode()
                    _upsert(connection, change.employee_no, record, now)
                    outbox.add(connection, TOPIC, change.record_id, record, correlation_id, now)
        except IntegrityError:
            # Only the outbox's unique (topic, key) can refuse these rows.
            return False
        return True

    def queued_changes(self, record_ids: Sequence[str]) -> dict[str, EmployeeChange]:
        """{record id: the change queued under it}, for the record ids already queued."""
        return {
            row.key: canonical_json.loads(EmployeeChange, row.payload)
            for row in self._queued(record_ids, outbox_table.c.payload)
        }

    def queued(self, record_ids: Sequence[str]) -> dict[str, QueuedChange]:
        """The queue entries of these record ids, for the ones that are queued."""
        return {
            row.key: QueuedChange(record_id=row.key, delivery_id=row.id, status=row.status)
            for row in self._queued(record_ids, outbox_table.c.id, outbox_table.c.status)
        }

    def _queued(self, record_ids: Sequence[str], *columns: Any) -> Iterator[Row[Any]]:
        with self.engine.connect() as connection:
            for start in range(0, len(record_ids), _LOOKUP_CHUNK):
                yield from connection.execute(
                    select(outbox_table.c.key, *columns).where(
                        outbox_table.c.topic == TOPIC,
                        outbox_table.c.key.in_(record_ids[start : start + _LOOKUP_CHUNK]),
                    )
                )

    def employee(self, employee_no: str) -> EmployeeChange | None:
        """The employee's latest record, or None for an unknown employee number."""
        with self.engine.connect() as connection:
            record = connection.execute(
                select(employees.c.record).where(employees.c.employee_no == employee_no)
            ).scalar()
        return None if record is None else canonical_json.loads(EmployeeChange, record)


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
