"""A request's correlation id follows it: into its log lines, to the upstream, back out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.observability.logging import current_correlation_id
from bridge.settings import Settings
from bridge.store.db import make_engine, migrate
from bridge.sync import outbox
from bridge.sync.engine import Delivered, Outcome, SyncEngine
from bridge.sync.outbox import Outbox, OutboxRow
from tests.common.live import LiveBridge
from tests.common.logs import JsonLines

ACCOUNT = "DE89370400440532013000"
log = logging.getLogger("bridge.tests.probe")


def probe(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A door that logs one line while it answers."""
    log.info("probe answered")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.fixture
def bridge(sqlite_url: str) -> Iterator[Bridge]:
    built = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    built.mounts["/probe"] = probe  # the dispatcher reads this dict on every request
    yield built
    built.engine.dispose()


def test_a_line_logged_during_a_request_carries_its_request_id(
    bridge: Bridge, json_lines: JsonLines
) -> None:
    response = Client(bridge).get("/probe", headers={"X-Request-ID": "req-from-caller-1"})

    assert response.headers["X-Request-ID"] == "req-from-caller-1"
    [line] = [entry for entry in json_lines() if entry["message"] == "probe answered"]
    assert line["correlation_id"] == "req-from-caller-1"


def test_a_generated_request_id_is_logged_and_returned(
    bridge: Bridge, json_lines: JsonLines
) -> None:
    response = Client(bridge).get("/probe")

    [line] = [entry for entry in json_lines() if entry["message"] == "probe answered"]
    assert line["correlation_id"] == response.headers["X-Request-ID"]
    assert current_correlation_id() is None  # reset once the request is answered


class HeaderRecorder:
    """Wraps a mounted WSGI app and keeps the X-Request-ID of every call it receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.request_ids: list[str | None] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.request_ids.append(environ.get("HTTP_X_REQUEST_ID"))
        return self.app(environ, start_response)


@pytest.mark.slow
def test_an_upstream_call_made_during_a_request_sends_its_request_id(
    live_bridge: LiveBridge,
) -> None:
    simulators = live_bridge.bridge.upstreams.simulators
    assert simulators is not None
    served = simulators.apps  # what the bridge's own upstream clients call
    corebank = served["/sims/corebank"] = HeaderRecorder(served["/sims/corebank"])

    response = requests.post(
        f"{live_bridge.url}/api/v1/accounts/{ACCOUNT}/verification",
        json={"name": "Bäckerei Müller & Söhne GmbH"},
        headers={"X-Request-ID": "req-upstream-9"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == "req-upstream-9"
    assert corebank.request_ids == ["req-upstream-9"]


class RecordingDeliverer:
    topic = "probe"
    upstream = "probe"
    batch_size = 10

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        self.seen.append(current_correlation_id())
        log.info("delivering %d rows", len(rows))
        return {row.id: Delivered({}) for row in rows}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    migrate(made)
    yield made
    made.dispose()


def test_a_sync_batch_runs_under_its_first_rows_correlation_id(
    engine: Engine, json_lines: JsonLines
) -> None:
    with engine.begin() as connection:
        outbox.add(connection, topic="probe", key="a", payload="{}", correlation_id="req-row-1")
        outbox.add(connection, topic="probe", key="b", payload="{}", correlation_id="req-row-2")
    deliverer = RecordingDeliverer()

    SyncEngine(engine, Outbox(engine), {"probe": deliverer}).run("probe")

    assert deliverer.seen == ["req-row-1"]
    [line] = [entry for entry in json_lines() if entry["message"] == "delivering 2 rows"]
    assert line["correlation_id"] == "req-row-1"
    assert current_correlation_id() is None
