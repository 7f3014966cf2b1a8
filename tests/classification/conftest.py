"""Classification over the real app (SQLite, real migrations): with a fake classifier where a
test needs to steer it, with the simulator (`live_bridge`) end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.domain.classification import ClassificationRequest
from bridge.mapping import canonical_json
from bridge.services.classification import ClassificationService, RetryPolicy
from bridge.settings import Settings
from bridge.sync.deliveries.classification import ClassificationDeliverer
from bridge.sync.engine import SyncEngine
from bridge.sync.outbox import Outbox
from tests.classification.fakes import FakeClassifier
from tests.credentials import authorized, grant

DATA = Path(__file__).parents[1] / "data" / "classification"
THRESHOLD = Decimal("0.75")
# The retry rule without the waiting: tests need the rule, not the pauses.
NO_WAIT = RetryPolicy(attempts=2, initial_wait=0, max_wait=0)


def documents() -> list[dict[str, Any]]:
    """The English, German and Vietnamese documents with what the simulator answers for each."""
    loaded: list[dict[str, Any]] = json.loads((DATA / "documents.json").read_text("utf-8"))
    return loaded


def case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "cases.json").read_text("utf-8"))[name]
    return loaded


def request_of(body: dict[str, Any]) -> ClassificationRequest:
    return canonical_json.loads(ClassificationRequest, json.dumps(body))


@pytest.fixture
def classifier() -> FakeClassifier:
    return FakeClassifier()


@pytest.fixture
def fake_bridge(sqlite_url: str, classifier: FakeClassifier) -> Iterator[Bridge]:
    """The whole app without simulators; its classification service and job talk to `classifier`."""
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    bridge.classification = ClassificationService(
        bridge.engine, classifier, THRESHOLD, retry=NO_WAIT
    )
    bridge.sync = SyncEngine(
        bridge.engine,
        Outbox(bridge.engine),
        {"classification": ClassificationDeliverer(bridge.classification, batch_size=10)},
    )
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def service(fake_bridge: Bridge) -> ClassificationService:
    return fake_bridge.classification


@pytest.fixture
def client(fake_bridge: Bridge) -> Client:
    """Werkzeug's test client over the whole WSGI stack (correlation middleware included)."""
    return Client(authorized(fake_bridge, grant(fake_bridge.engine)))
