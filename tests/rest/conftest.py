"""The REST door over the real app (SQLite, real migrations) with a fake core banking system."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge, create_app
from bridge.domain.errors import UpstreamUnavailable
from bridge.services.banking import BankingService, RetryPolicy
from bridge.settings import Settings
from bridge.store.transfers import TransferStore
from tests.credentials import Credentials, authorized, grant
from tests.rest.fakes import FakeCoreBank

DATA = Path(__file__).parents[1] / "data" / "rest"
PROBLEM = "application/problem+json"
PROBLEM_TYPES = "https://bridge.dev/problems/"


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text("utf-8"))
    return loaded


class ImmediateRetry(RetryPolicy):
    """The service's retry rule without its backoff: tests need the rule, not the waiting."""

    def retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            retry=retry_if_exception_type(UpstreamUnavailable),
            reraise=True,
        )


@pytest.fixture
def corebank() -> FakeCoreBank:
    return FakeCoreBank()


@pytest.fixture
def rest_bridge(sqlite_url: str, corebank: FakeCoreBank) -> Iterator[Bridge]:
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    bridge.banking = BankingService(
        TransferStore(bridge.engine),
        corebank,  # type: ignore[arg-type]
        bridge.mappings.currencies,
        retry=ImmediateRetry(attempts=2, retry_after=7),
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


def post_json(client: Client, url: str, body: Any, **headers: str) -> TestResponse:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def assert_problem(response: TestResponse, status: int, kind: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of this status and kind; its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem: dict[str, Any] = response.get_json(force=True)
    assert problem["type"] == PROBLEM_TYPES + kind
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert problem["correlation_id"] == response.headers["X-Request-ID"]
    return problem
