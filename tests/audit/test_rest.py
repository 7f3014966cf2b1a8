"""`GET /api/v1/audit` for private clients holding `audit:read`, and the "admin" entries the
sync API's replays and runs add. The audit blueprint is served here by a small OpenAPI app with
the bridge's own authentication (`bridge.rest.auth.install`) in front of a real bridge."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask_openapi3.openapi import OpenAPI
from sqlalchemy import update
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.observability.correlation import CorrelationMiddleware
from bridge.rest.audit import audit as audit_blueprint
from bridge.rest.auth import install
from bridge.rest.openapi import security_schemes
from bridge.rest.problems import Problem, invalid_parameters, problem
from bridge.rest.routes import label_routes
from bridge.security.audit import AuditMiddleware
from bridge.settings import Settings
from bridge.store.audit import AuditLog
from bridge.store.tables import outbox
from bridge.sync import outbox as outbox_module
from tests.common.audit import entry
from tests.credentials import Credentials, authorized, grant

URL = "/api/v1/audit"


@pytest.fixture(scope="module")
def bridge(migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    """One bridge for the module (building one takes a second): each test tells its own
    entries apart by a client of its own."""
    directory = tmp_path_factory.mktemp("audit-rest")
    shutil.copyfile(migrated_sqlite, directory / "bridge.db")
    settings = Settings(
        database_url=f"sqlite:///{directory / 'bridge.db'}",
        simulators=False,
        scheduler=False,
        token_keys_dir=directory / "keys",
    )
    made = create_app(settings)
    if getattr(made, "audit", None) is None:  # until create_app makes the audit log itself
        made.audit = AuditLog(made.engine)  # type: ignore[attr-defined]
    yield made
    made.audit.close()  # type: ignore[attr-defined]
    made.close()


@pytest.fixture
def audit(bridge: Bridge) -> AuditLog:
    found: AuditLog = bridge.audit  # type: ignore[attr-defined]
    return found


@pytest.fixture
def api(bridge: Bridge, audit: AuditLog) -> Any:
    """The audit API behind the bridge's authentication and the audit middleware."""
    app = OpenAPI(
        "audit-test",
        security_schemes=security_schemes(),
        validation_error_status=400,
        validation_error_model=Problem,
        validation_error_callback=invalid_parameters,
    )
    app.extensions["bridge"] = bridge
    app.register_api(audit_blueprint)
    app.register_error_handler(Exception, problem)
    install(app, bridge.security)
    return CorrelationMiddleware(AuditMiddleware(label_routes(app), audit))


@pytest.fixture
def operator(bridge: Bridge) -> Credentials:
    return grant(bridge.engine, tier="private", scopes=["audit:read"], name="auditor")


@pytest.fixture
def client(api: Any, operator: Credentials) -> Client:
    return Client(authorized(api, operator))


def test_entries_come_newest_first_a_page_at_a_time(client: Client, audit: AuditLog) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(3):
        audit.record(entry(tag, resource_id=f"R{n}"))

    first = client.get(URL, query_string={"client_id": tag, "limit": 2})
    assert first.status_code == 200, first.get_data(as_text=True)
    page = first.get_json()
    second = client.get(
        URL, query_string={"client_id": tag, "limit": 2, "cursor": page["next_cursor"]}
    ).get_json()

    assert [e["resource_id"] for e in page["entries"]] == ["R2", "R1"]
    assert [e["resource_id"] for e in second["entries"]] == ["R0"]
    assert second["next_cursor"] is None
    assert set(page["entries"][0]) == {
        "id",
        "at",
        "client_id",
        "tier",
        "interface",
        "operation",
        "resource_id",
        "outcome",
        "status",
        "latency_ms",
        "source",
        "correlation_id",
        "detail",
    }


def test_entries_are_filtered_by_time_outcome_and_interface(
    client: Client, audit: AuditLog
) -> None:
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    audit.record(entry(tag, at=now - timedelta(days=2), resource_id="old"))
    audit.record(entry(tag, at=now, outcome="denied", status="403", resource_id="denied"))
    audit.record(entry(tag, at=now, interface="soap", status="200", resource_id="soap"))

    def found(**query: str) -> list[str]:
        answer = client.get(URL, query_string={"client_id": tag, **query})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [e["resource_id"] for e in answer.get_json()["entries"]]

    since = (now - timedelta(days=1)).isoformat()
    assert found(since=since) == ["soap", "denied"]
    assert found(until=since) == ["old"]
    assert found(outcome="denied") == ["denied"]
    assert found(interface="soap") == ["soap"]


def test_each_read_of_the_log_is_itself_in_the_log(
    client: Client, operator: Credentials, audit: AuditLog
) -> None:
    client.get(URL, query_string={"outcome": "security_event"})

    audit.flush()
    (read,) = audit.query(client_id=operator.client.id)
    assert (read.operation, read.outcome, read.tier) == ("GET /api/v1/audit", "ok", "private")


@pytest.mark.parametrize(
    ("tier", "scopes", "status"),
    [("partner", ["audit:read"], 403), ("private", ["sync:admin"], 403)],
)
def test_only_private_clients_with_audit_read_may_read(
    api: Any, bridge: Bridge, tier: str, scopes: list[str], status: int
) -> None:
    caller = grant(bridge.engine, tier=tier, scopes=scopes, organisation="acme")

    assert Client(api).get(URL, headers=caller.headers).status_code == status


def test_reading_without_credentials_is_401_and_recorded_as_unauthenticated(
    api: Any, audit: AuditLog
) -> None:
    response = Client(api).get(URL, environ_overrides={"REMOTE_ADDR": "203.0.113.77"})

    assert response.status_code == 401
    audit.flush()
    (refused,) = [e for e in audit.query(outcome="unauthenticated") if e.source == "203.0.113.77"]
    assert refused.operation == "GET /api/v1/audit"


@pytest.mark.parametrize(
    "query", [{"cursor": "not-a-cursor"}, {"outcome": "fine"}, {"limit": "0"}, {"since": "x"}]
)
def test_bad_parameters_are_400(client: Client, query: dict[str, str]) -> None:
    response = client.get(URL, query_string=query)

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_a_replay_through_the_sync_api_is_an_admin_entry(bridge: Bridge, audit: AuditLog) -> None:
    with bridge.engine.begin() as connection:
        outbox_module.add(connection, topic="payroll", key="REC-1", payload="{}")
        connection.execute(update(outbox).where(outbox.c.key == "REC-1").values(status="dead"))
    (dead_id,) = [letter.id for letter in bridge.sync_status.dead_letters(limit=10)]
    admin = grant(bridge.engine, tier="private", scopes=["sync:admin"], name="operator")

    response = Client(authorized(bridge, admin)).post(f"/api/v1/sync/deliveries/{dead_id}/replay")

    assert response.status_code == 200, response.get_data(as_text=True)
    audit.flush()
    (action,) = audit.query(interface="admin", client_id=admin.client.id)
    assert (action.operation, action.resource_id, action.client_id, action.tier) == (
        "sync replay",
        str(dead_id),
        admin.client.id,
        "private",
    )
