"""The HR door over the real app (SQLite, real migrations); no upstream is needed to queue."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from bridge.store.tables import employees, outbox
from tests.credentials import authorized, grant

DATA = Path(__file__).parents[1] / "data" / "hr"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


@pytest.fixture
def hr_bridge(sqlite_url: str) -> Iterator[Bridge]:
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def client(hr_bridge: Bridge) -> Client:
    return Client(authorized(hr_bridge, grant(hr_bridge.engine)))


@pytest.fixture
def change() -> dict[str, Any]:
    """A PUT body: an HR change without employee number and record id."""
    loaded: dict[str, Any] = load("employee_change.json")
    return loaded


@pytest.fixture
def batch() -> dict[str, Any]:
    """Four changes; payroll will reject the fourth (60 weekly hours)."""
    loaded: dict[str, Any] = load("changes.json")
    return copy.deepcopy(loaded)


def put_json(client: Client, url: str, body: Any, **headers: str) -> TestResponse:
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


def counts(bridge: Bridge) -> tuple[int, int]:
    """(employees stored, outbox rows queued)."""
    with bridge.engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(employees)).scalar_one()
        queued = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    return stored, queued
