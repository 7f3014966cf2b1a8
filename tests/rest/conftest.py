"""The REST door over the real app (SQLite, real migrations) with a fake core banking system."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, Overrides, create_app
from bridge.settings import Settings
from tests.common.banking import FakeCoreBank, ImmediateRetry
from tests.common.rest import load
from tests.credentials import Credentials, authorized, grant


@pytest.fixture
def corebank() -> FakeCoreBank:
    return FakeCoreBank()


@pytest.fixture
def rest_bridge(sqlite_url: str, corebank: FakeCoreBank) -> Iterator[Bridge]:
    bridge = create_app(
        Settings(database_url=sqlite_url, simulators=False, scheduler=False),
        overrides=Overrides(
            corebank=corebank,  # type: ignore[arg-type]
            banking_retry=ImmediateRetry(attempts=2, retry_after=7),
        ),
    )
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def credentials(rest_bridge: Bridge) -> Credentials:
    """A partner bank's client, allowed everything a partner may do."""
    return grant(rest_bridge.engine, tier="partner", organisation="bank-a", name="bank a")


@pytest.fixture
def client(rest_bridge: Bridge, credentials: Credentials) -> Client:
    """Werkzeug's test client (Flask's is built on it) over the whole WSGI stack, so the
    correlation middleware runs as in production; every request carries `credentials`."""
    return Client(authorized(rest_bridge, credentials))


@pytest.fixture
def other_partner(rest_bridge: Bridge) -> Client:
    """Another partner bank's client."""
    other = grant(rest_bridge.engine, tier="partner", organisation="bank-b", name="bank b")
    return Client(authorized(rest_bridge, other))


@pytest.fixture
def transfer() -> dict[str, Any]:
    return load("transfer_request.json")
