"""HR changes as tests send them: sample files of tests/data/hr and tests/data/sync, the fake
payroll deliverer, and counts and states of what the bridge queued."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from bridge.app import Bridge
from bridge.domain import EmployeeChange
from bridge.mapping import canonical_json
from bridge.store.tables import employees, outbox
from bridge.sync.engine import Dead, Delivered, Outcome
from bridge.sync.outbox import OutboxRow

DATA = Path(__file__).parents[1] / "data" / "hr"
CHANGES = DATA / "changes.json"
EMPLOYEE_CHANGES = Path(__file__).parents[1] / "data" / "sync" / "employee_changes.json"


def load(name: str) -> Any:
    """A JSON file of tests/data/hr."""
    return json.loads((DATA / name).read_text("utf-8"))


def changes() -> list[EmployeeChange]:
    """The four changes of tests/data/hr/changes.json; payroll rejects the fourth."""
    return [
        canonical_json.loads(EmployeeChange, json.dumps(item))
        for item in json.loads(CHANGES.read_text("utf-8"))["changes"]
    ]


def employee_changes() -> list[EmployeeChange]:
    """The four changes of tests/data/sync/employee_changes.json (REC-0001 to REC-0004)."""
    return [
        canonical_json.loads(EmployeeChange, json.dumps(item))
        for item in json.loads(EMPLOYEE_CHANGES.read_text("utf-8"))
    ]


def counts(bridge: Bridge) -> tuple[int, int]:
    """(employees stored, outbox rows queued)."""
    with bridge.engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(employees)).scalar_one()
        queued = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    return stored, queued


def queue_changes(bridge: Bridge) -> list[int]:
    """The four changes of tests/data/hr/changes.json, queued; their delivery ids."""
    accepted = bridge.hr.record_changes(changes(), correlation_id="cid-syncops")
    queued = bridge.hr.queued([c.record_id for c in accepted])
    return [queued[c.record_id].delivery_id for c in accepted]


def make_dead(bridge: Bridge, *ids: int, error: str = "rejected by payroll: TEST") -> None:
    with bridge.engine.begin() as connection:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status="dead", attempts=1, last_error=error, updated_at=datetime.now(UTC))
        )


class FakePayroll:
    """Delivers every row it is handed, or declares it dead; can hold a batch until released."""

    topic = "payroll"
    upstream = "payroll"

    def __init__(self, batch_size: int = 2) -> None:
        self.batch_size = batch_size
        self.rejected: set[str] = set()
        self.inside = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        self.inside.set()
        self.go_on.wait(timeout=30)
        return {
            row.id: Dead("rejected by payroll: HOURS_ABOVE_MAXIMUM")
            if row.key in self.rejected
            else Delivered({"batch_id": "B-fake"})
            for row in rows
        }
