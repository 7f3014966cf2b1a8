"""Classification over the real app (SQLite, real migrations): with a fake classifier where a
test needs to steer it, with the simulator (`live_bridge`) end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, Overrides, create_app
from bridge.services.classification import ClassificationService
from bridge.settings import Settings
from bridge.sync.deliveries.classification import ClassificationDeliverer
from tests.common.classification import NO_WAIT, THRESHOLD
from tests.common.classifier import FakeClassifier
from tests.credentials import authorized, grant


@pytest.fixture
def classifier() -> FakeClassifier:
    return FakeClassifier()


@pytest.fixture
def fake_bridge(sqlite_url: str, classifier: FakeClassifier) -> Iterator[Bridge]:
    """The whole app without simulators; its classification service and job talk to `classifier`."""
    bridge = create_app(
        Settings(
            database_url=sqlite_url,
            simulators=False,
            scheduler=False,
            review_threshold=THRESHOLD,
        ),
        overrides=Overrides(
            classifier=classifier,
            classification_retry=NO_WAIT,
            deliverers=lambda service, _: {
                "classification": ClassificationDeliverer(service, batch_size=10)
            },
        ),
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
