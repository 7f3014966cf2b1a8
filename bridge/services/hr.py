"""HR changes bound for payroll: stored with their outbox rows in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from bridge.domain import EmployeeChange
from bridge.domain.errors import InvalidInput, MappingError, NotFound
from bridge.mapping import canonical_json
from bridge.mapping.scalars import Currencies, Invalid
from bridge.store.tables import employees
from bridge.sync import outbox

TOPIC = "payroll"


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
        one (the key payroll deduplicates on)."""
        accepted = [self._checked(index, change) for index, change in enumerate(changes)]
        if not accepted:
            raise InvalidInput("no changes given")
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            for change in accepted:
                record = canonical_json.dumps(change).decode()
                self._upsert(connection, change.employee_no, record, now)
                outbox.add(
                    connection,
                    topic=TOPIC,
                    key=change.record_id,
                    payload=record,
                    correlation_id=correlation_id,
                    now=now,
                )
        return accepted

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
