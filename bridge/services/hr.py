"""HR changes bound for payroll: stored with their outbox rows in one transaction
(`bridge.store.employees`).

A change's record id is the key payroll applies it once by, so it is also the bridge's: a change
sent again with a record id already queued (a client's retry) is not queued twice, and a record
id already queued for another change is refused instead of reaching payroll, which would answer
the first change's result for the second.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace

from bridge.domain import EmployeeChange
from bridge.domain.errors import Conflict, InvalidInput, KeyReused, MappingError, NotFound
from bridge.mapping.scalars import Currencies, Invalid
from bridge.store.employees import EmployeeStore, QueuedChange


def new_record_id() -> str:
    return uuid.uuid4().hex


class HrService:
    def __init__(self, employees: EmployeeStore, currencies: Currencies) -> None:
        self._employees = employees
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
        earlier = self._employees.queued_changes([c.record_id for c in accepted])
        for index, change in enumerate(accepted):
            if change.record_id in earlier and earlier[change.record_id] != change:
                raise KeyReused(
                    f"changes[{index}].record_id: {change.record_id!r} was already "
                    "queued for another change; use a new record id for a new change"
                )
        fresh = [change for change in accepted if change.record_id not in earlier]
        if fresh and not self._employees.add(fresh, correlation_id=correlation_id):
            # Another request is queueing one of the same record ids right now. Its retry will
            # find it queued.
            raise Conflict(
                "a change with one of these record ids is being queued by another request; "
                "retry the request"
            )
        return accepted

    def queued(self, record_ids: Sequence[str]) -> dict[str, QueuedChange]:
        """The queue entries of these record ids, for the ones that are queued."""
        return self._employees.queued(record_ids)

    def employee(self, employee_no: str) -> EmployeeChange:
        found = self._employees.employee(employee_no)
        if found is None:
            raise NotFound(f"no employee {employee_no!r}")
        return found

    def _checked(self, index: int, change: EmployeeChange) -> EmployeeChange:
        try:
            salary = self._currencies.canonical(change.salary.amount)
        except Invalid as exc:
            raise MappingError(f"changes[{index}].salary.amount", exc.expected, exc.got) from None
        record_id = change.record_id or new_record_id()
        return replace(change, record_id=record_id, salary=replace(change.salary, amount=salary))


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
