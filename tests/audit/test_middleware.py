"""`AuditMiddleware` over a tiny WSGI app standing in for the doors: the app answers what the
test asks for (status, content type) and leaves in the environ what a door would (principal,
route, resource, SOAP fault); the audit log is real (SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from werkzeug.test import Client

from bridge.observability.audit import current_source
from bridge.observability.correlation import CorrelationMiddleware
from bridge.observability.metrics import ROUTE_KEY
from bridge.security.access import PRINCIPAL_KEY, Principal
from bridge.security.audit import AuditMiddleware
from bridge.security.clients import ApiClient
from bridge.store.audit import AuditLog, AuditRecord

ACME = ApiClient(
    id="acme-1",
    name="Acme Bank",
    tier="partner",
    scopes=frozenset({"transfers:write"}),
    plan="standard",
    organisation="acme",
    active=True,
)
IBAN = "DE89370400440532013000"


class Door:
    """The app behind the middleware: answers `status` with `content_type`, and before that
    leaves `environ_updates` in the environ, as a door does."""

    def __init__(self) -> None:
        self.status = "200 OK"
        self.content_type = "application/json"
        self.environ_updates: dict[str, Any] = {}
        self.seen_source: str | None = None
        self.fail: Exception | None = None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.seen_source = current_source()
        environ.update(self.environ_updates)
        if self.fail is not None:
            raise self.fail
        start_response(self.status, [("Content-Type", self.content_type)])
        return [b"{}"]


@pytest.fixture
def door() -> Door:
    return Door()


@pytest.fixture
def audit(engine: Engine) -> Iterator[AuditLog]:
    log = AuditLog(engine)
    yield log
    log.close()


def client_for(door: Door, audit: AuditLog, **options: Any) -> Client:
    return Client(CorrelationMiddleware(AuditMiddleware(door, audit, **options)))


@pytest.fixture
def client(door: Door, audit: AuditLog) -> Client:
    return client_for(door, audit)


def entries(audit: AuditLog) -> list[AuditRecord]:
    audit.flush()
    return audit.query()


def only(audit: AuditLog) -> AuditRecord:
    (found,) = entries(audit)
    return found


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("200 OK", "ok"),
        ("201 Created", "ok"),
        ("304 Not Modified", "ok"),
        ("400 Bad Request", "client_error"),
        ("401 Unauthorized", "unauthenticated"),
        ("403 Forbidden", "denied"),
        ("404 Not Found", "not_found"),
        ("422 Unprocessable Entity", "client_error"),
        ("429 Too Many Requests", "rate_limited"),
        ("500 Internal Server Error", "server_error"),
        ("503 Service Unavailable", "server_error"),
    ],
)
def test_outcome_follows_the_http_status(
    door: Door, client: Client, audit: AuditLog, status: str, outcome: str
) -> None:
    door.status = status
    client.post("/api/v1/transfers")

    found = only(audit)
    assert (found.outcome, found.status) == (outcome, status.split()[0])
    assert found.interface == "rest"


def test_an_entry_says_who_called_what_from_where(
    door: Door, client: Client, audit: AuditLog
) -> None:
    door.status = "201 Created"
    door.environ_updates = {
        PRINCIPAL_KEY: Principal(ACME, ACME.scopes, "api_key"),
        ROUTE_KEY: "POST /api/v1/transfers",
    }
    response = client.post(
        "/api/v1/transfers",
        headers={"X-Request-ID": "req-42"},
        environ_overrides={"REMOTE_ADDR": "198.51.100.9"},
    )

    found = only(audit)
    assert response.headers["X-Request-ID"] == "req-42"
    assert found.client_id == "acme-1"
    assert found.tier == "partner"
    assert found.operation == "POST /api/v1/transfers"
    assert found.source == "198.51.100.9"
    assert found.correlation_id == "req-42"
    assert found.latency_ms is not None
    assert found.latency_ms >= 0
    assert door.seen_source == "198.51.100.9"


def test_a_caller_nobody_authenticated_has_no_client(
    door: Door, client: Client, audit: AuditLog
) -> None:
    door.status = "401 Unauthorized"
    client.get("/api/v1/transfers/TX-1")

    found = only(audit)
    assert (found.client_id, found.tier, found.outcome) == (None, None, "unauthenticated")


@pytest.mark.parametrize(
    ("route", "path", "resource"),
    [
        ("GET /api/v1/shipments/<path:id>", "/api/v1/shipments/SHP-1/2", "SHP-1/2"),
        (
            "GET /api/v1/sync/jobs/<job>/runs/<int:run_id>",
            "/api/v1/sync/jobs/payroll/runs/3",
            "payroll/3",
        ),
        (
            "POST /api/v1/accounts/<account>/verification",
            f"/api/v1/accounts/{IBAN}/verification",
            "DE89…3000",
        ),
        (
            "GET /api/v1/accounts/<account>/transactions",
            "/api/v1/accounts/123456789/transactions",
            "…6789",
        ),
        ("POST /api/v1/transfers", "/api/v1/transfers", None),
        (None, "/api/v1/nothing/here", None),
    ],
)
def test_the_resource_is_the_rest_path_variables_with_accounts_masked(
    door: Door, client: Client, audit: AuditLog, route: str | None, path: str, resource: str | None
) -> None:
    door.environ_updates = {ROUTE_KEY: route} if route else {}
    client.open(path, method=route.split()[0] if route else "GET")

    assert only(audit).resource_id == resource


def test_a_resource_the_route_names_wins_over_the_path(
    door: Door, client: Client, audit: AuditLog
) -> None:
    door.status = "201 Created"
    door.environ_updates = {ROUTE_KEY: "POST /api/v1/transfers", "bridge.audit.resource": "TX-9"}
    client.post("/api/v1/transfers")

    assert only(audit).resource_id == "TX-9"


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
        "/api/docs",
        "/ui/audit",
    ],
)
def test_operations_paths_and_the_dashboard_are_not_audited_here(
    client: Client, audit: AuditLog, path: str
) -> None:
    client.get(path)

    assert entries(audit) == []


def test_the_wsdl_is_not_audited_but_a_soap_call_is(client: Client, audit: AuditLog) -> None:
    client.get("/soap/banking", query_string="wsdl")
    client.post("/soap/banking", headers={"SOAPAction": '"VerifyAccount"'})

    found = only(audit)
    assert (found.interface, found.operation, found.status) == ("soap", "VerifyAccount", "200")


def test_soap_operations_are_named_only_as_the_contract_knows_them(
    door: Door, audit: AuditLog
) -> None:
    client = client_for(
        door, audit, soap_operations={"/soap/banking": frozenset({"TransferFunds"})}
    )
    client.post("/soap/banking", headers={"SOAPAction": "TransferFunds"})
    client.post("/soap/banking", headers={"SOAPAction": "Invented"})

    assert [e.operation for e in entries(audit)] == ["unknown", "TransferFunds"]


@pytest.mark.parametrize(
    ("fault", "http", "outcome", "status"),
    [
        ("Client", "500 Internal Server Error", "client_error", "soap:Client"),
        ("Server", "500 Internal Server Error", "server_error", "soap:Server"),
        ("Client", "429 Too Many Requests", "rate_limited", "soap:Client"),
        (
            "wsse:FailedAuthentication",
            "500 Internal Server Error",
            "unauthenticated",
            "wsse:FailedAuthentication",
        ),
        (None, "500 Internal Server Error", "server_error", "soap:Fault"),
    ],
)
def test_a_soap_fault_is_recorded_by_its_faultcode(
    door: Door,
    client: Client,
    audit: AuditLog,
    fault: str | None,
    http: str,
    outcome: str,
    status: str,
) -> None:
    door.status, door.content_type = http, "text/xml; charset=utf-8"
    door.environ_updates = {"bridge.soap.fault": fault} if fault else {}
    client.post("/soap/banking", headers={"SOAPAction": "TransferFunds"})

    found = only(audit)
    assert (found.outcome, found.status) == (outcome, status)


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(door: Door, audit: AuditLog) -> None:
    headers = {"X-Forwarded-For": "203.0.113.5, 10.0.0.2"}
    remote = {"REMOTE_ADDR": "10.0.0.1"}
    client_for(door, audit).get("/api/v1/x", headers=headers, environ_overrides=remote)
    client_for(door, audit, trusted_proxies=1).get(
        "/api/v1/x", headers=headers, environ_overrides=remote
    )
    client_for(door, audit, trusted_proxies=2).get(
        "/api/v1/x", headers=headers, environ_overrides=remote
    )
    client_for(door, audit, trusted_proxies=3).get(
        "/api/v1/x", headers=headers, environ_overrides=remote
    )

    sources = [e.source for e in reversed(entries(audit))]
    assert sources == ["10.0.0.1", "10.0.0.2", "203.0.113.5", "10.0.0.1"]


def test_a_door_that_raises_is_recorded_as_a_server_error(
    door: Door, client: Client, audit: AuditLog
) -> None:
    door.fail = RuntimeError("boom")
    with pytest.raises(RuntimeError):
        client.get("/api/v1/transfers/TX-1")

    found = only(audit)
    assert (found.outcome, found.status) == ("server_error", "500")
