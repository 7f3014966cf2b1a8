"""The HR door over the real app (SQLite, real migrations); no upstream is needed to queue."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from tests.common.hr import load
from tests.credentials import authorized, grant


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
