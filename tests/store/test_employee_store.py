"""The employee store on SQLite and PostgreSQL: changes stored as the employees' latest records
and queued for payroll in one transaction, all or none."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select

from bridge.domain import EmployeeChange
from bridge.store.employees import EmployeeStore
from bridge.store.tables import employees, outbox
from tests.common.clock import Clock
from tests.common.hr import employee_changes


@pytest.fixture
def store(any_engine: Engine, clock: Clock) -> EmployeeStore:
    return EmployeeStore(any_engine, clock=clock)


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            int(connection.execute(select(func.count()).select_from(employees)).scalar_one()),
            int(connection.execute(select(func.count()).select_from(outbox)).scalar_one()),
        )


def test_changes_are_stored_as_latest_records_and_queued(
    store: EmployeeStore, any_engine: Engine
) -> None:
    changes = employee_changes()

    assert store.add(changes, correlation_id="cid-1")

    assert _counts(any_engine) == (len({c.employee_no for c in changes}), len(changes))
    assert store.queued_changes([c.record_id for c in changes]) == {c.record_id: c for c in changes}


def test_a_later_change_of_an_employee_is_the_latest_record(store: EmployeeStore) -> None:
    first = employee_changes()[0]
    later = replace(first, record_id="REC-LATER", given_name="Renamed")

    store.add([first], correlation_id=None)
    store.add([later], correlation_id=None)

    assert store.employee(first.employee_no) == later


def test_a_record_id_queued_already_stores_none_of_the_call(
    store: EmployeeStore, any_engine: Engine
) -> None:
    first, second, *_ = employee_changes()
    store.add([first], correlation_id=None)

    assert not store.add([second, replace(first, given_name="Again")], correlation_id=None)

    assert _counts(any_engine) == (1, 1)


def test_queued_answers_the_queued_record_ids_among_many(store: EmployeeStore) -> None:
    changes: list[EmployeeChange] = employee_changes()
    store.add(changes[:2], correlation_id=None)
    asked = [f"REC-UNKNOWN-{n}" for n in range(600)] + [changes[1].record_id]

    queued = store.queued(asked)

    assert list(queued) == [changes[1].record_id]
    assert queued[changes[1].record_id].status == "pending"


def test_an_unknown_employee_is_none(store: EmployeeStore) -> None:
    assert store.employee("HR9999") is None
