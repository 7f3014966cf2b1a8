"""Security events: a burst of failed authentications from one source, and a reused refresh
token, each logged once as a `security_event` entry, a WARNING line and a counter increment."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from werkzeug.test import Client

from bridge.domain.errors import InvalidGrant
from bridge.observability.logging import JsonFormatter
from bridge.security.audit import AuditMiddleware
from bridge.security.clients import ClientRegistry
from bridge.security.events import SecurityEvents
from bridge.security.tokens import KeyRing, TokenService
from bridge.store.audit import AuditLog, AuditRecord


class Ticks:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def audit(engine: Engine) -> Iterator[AuditLog]:
    log = AuditLog(engine)
    yield log
    log.close()


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def events(audit: AuditLog, ticks: Ticks) -> SecurityEvents:
    return SecurityEvents(audit, burst=5, window=60, monotonic=ticks)


def security_entries(audit: AuditLog) -> list[AuditRecord]:
    audit.flush()
    return audit.query(outcome="security_event")


def counted(kind: str) -> float:
    return REGISTRY.get_sample_value("bridge_security_events_total", {"kind": kind}) or 0.0


def fail(events: SecurityEvents, ticks: Ticks, times: int, source: str, every: float = 1) -> int:
    """`times` failures from `source`, `every` seconds apart; how many bursts they reported."""
    before = counted("auth_failure_burst")
    for _ in range(times):
        events.auth_failed(source, "rest", "invalid")
        ticks.now += every
    return int(counted("auth_failure_burst") - before)


def test_a_burst_of_failures_from_one_source_is_one_event(
    events: SecurityEvents, ticks: Ticks, audit: AuditLog
) -> None:
    before = counted("auth_failure_burst")

    assert fail(events, ticks, 4, "203.0.113.9") == 0
    assert security_entries(audit) == []
    assert fail(events, ticks, 1, "203.0.113.9") == 1
    assert fail(events, ticks, 30, "203.0.113.9") == 0  # the same burst goes on

    (found,) = security_entries(audit)
    assert counted("auth_failure_burst") == before + 1
    assert found.status == "auth_failure_burst"
    assert found.source == "203.0.113.9"
    assert found.interface == "rest"
    assert found.detail == "5 failed authentications within 60 s (invalid 5)"


def test_a_source_quiet_for_a_window_can_burst_again(
    events: SecurityEvents, ticks: Ticks, audit: AuditLog
) -> None:
    assert fail(events, ticks, 5, "203.0.113.9") == 1
    ticks.now += 61

    assert fail(events, ticks, 5, "203.0.113.9") == 1
    assert len(security_entries(audit)) == 2


def test_failures_spread_wider_than_the_window_are_no_burst(
    events: SecurityEvents, ticks: Ticks, audit: AuditLog
) -> None:
    assert fail(events, ticks, 20, "203.0.113.9", every=16) == 0
    assert security_entries(audit) == []


def test_sources_are_counted_apart(events: SecurityEvents, ticks: Ticks, audit: AuditLog) -> None:
    for _ in range(4):
        fail(events, ticks, 1, "203.0.113.1")
        fail(events, ticks, 1, "203.0.113.2")
    assert security_entries(audit) == []

    assert fail(events, ticks, 1, "203.0.113.2") == 1
    assert [e.source for e in security_entries(audit)] == ["203.0.113.2"]


def test_the_sources_remembered_are_bounded(audit: AuditLog, ticks: Ticks) -> None:
    events = SecurityEvents(audit, burst=2, window=60, max_sources=3, monotonic=ticks)
    fail(events, ticks, 1, "198.51.100.1")
    for n in range(2, 5):  # three newer sources push the first one out
        fail(events, ticks, 1, f"198.51.100.{n}")

    assert fail(events, ticks, 1, "198.51.100.1") == 0  # its first failure was forgotten
    assert fail(events, ticks, 1, "198.51.100.4") == 1


def test_a_burst_is_logged_as_a_warning_json_line(
    events: SecurityEvents, ticks: Ticks, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bridge.security.events"):
        fail(events, ticks, 5, "203.0.113.9")

    (record,) = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["security_event"] == "auth_failure_burst"
    assert line["source"] == "203.0.113.9"


@pytest.fixture
def tokens(engine: Engine, events: SecurityEvents) -> TokenService:
    return TokenService(
        engine,
        KeyRing.generate("k1"),
        issuer="https://bridge.test",
        audience="bridge",
        on_reuse=events.refresh_token_reused,
    )


@pytest.fixture
def registry(engine: Engine) -> ClientRegistry:
    return ClientRegistry(engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def test_a_reused_refresh_token_is_an_event_naming_the_client_and_family(
    registry: ClientRegistry, tokens: TokenService, audit: AuditLog
) -> None:
    client, _ = registry.create("Ops console", "private", ["audit:read"])
    first = tokens.grant(client)
    tokens.refresh(first.refresh_token, client)
    before = counted("refresh_token_reused")

    with pytest.raises(InvalidGrant):
        tokens.refresh(first.refresh_token, client)

    (found,) = security_entries(audit)
    assert counted("refresh_token_reused") == before + 1
    assert found.status == "refresh_token_reused"
    assert found.client_id == client.id
    assert found.resource_id is not None
    assert found.operation == "POST /oauth/token"


def test_a_reuse_during_a_request_records_the_request_source(
    events: SecurityEvents, audit: AuditLog
) -> None:
    def token_endpoint(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        events.refresh_token_reused("acme-1", "family-1")
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [b'{"error": "invalid_grant"}']

    app = AuditMiddleware(token_endpoint, audit)
    Client(app).post("/oauth/token", environ_overrides={"REMOTE_ADDR": "192.0.2.44"})

    (found,) = security_entries(audit)
    assert found.source == "192.0.2.44"
