"""The sync API over the real app (SQLite, real migrations). Runs that need no upstream use a
fake payroll deliverer in place of the real one; `test_live.py` runs the real one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from tests.common.hr import FakePayroll
from tests.credentials import authorized, grant


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
