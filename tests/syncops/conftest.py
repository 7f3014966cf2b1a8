"""The sync API over the real app (SQLite, real migrations). Runs that need no upstream use a
fake payroll deliverer in place of the real one; `test_live.py` runs the real one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.domain import EmployeeChange
from bridge.mapping import canonical_json
from bridge.settings import Settings
from bridge.store.tables import outbox
from bridge.sync.engine import Dead, Delivered, Outcome
from bridge.sync.outbox import OutboxRow
from tests.credentials import authorized, grant

CHANGES = Path(__file__).parents[1] / "data" / "hr" / "changes.json"


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


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        database_url=sqlite_url,
        simulators=False,
        scheduler=False,
        payroll_schedule="*/5 * * * *",
    )


@pytest.fixture
def sync_bridge(settings: Settings) -> Iterator[Bridge]:
    bridge = create_app(settings)
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def fake_payroll(sync_bridge: Bridge) -> FakePayroll:
    fake = FakePayroll()
    sync_bridge.sync.deliverers["payroll"] = fake
    return fake


@pytest.fixture
def client(sync_bridge: Bridge) -> Client:
    return Client(authorized(sync_bridge, grant(sync_bridge.engine)))


def changes() -> list[EmployeeChange]:
    return [
        canonical_json.loads(EmployeeChange, json.dumps(item))
        for item in json.loads(CHANGES.read_text("utf-8"))["changes"]
    ]


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
