"""Audit records for every call on the REST and SOAP doors (and the simulators' public mount).

`AuditMiddleware` is WSGI middleware, like `MetricsMiddleware` and for the same reason: the SOAP
doors are spyne apps mounted beside Flask, which Flask hooks never see. It sits inside
`CorrelationMiddleware` (whose id it records) and outside the doors, so it reads, after the
door has answered, what the door left in the environ (`bridge.observability.audit` lists the
keys): who called (`PRINCIPAL_KEY`, `CLIENT_ID_KEY`), what about, and which SOAP fault.

Here, in security, because it writes who did what into the audit log (`bridge.store.audit`),
next to the security events that write into the same log; the environ keys and the source
address it binds for the request stay below, where the doors and the events read them.

Health, readiness, metrics, the API document and docs and `?wsdl` of the SOAP doors are not
audited (`metrics.door_of`), nor the dashboard under /ui, which records what its operators do
itself (interface "ui", `bridge.ui.trail`). The simulators' public mount is (interface "sims"):
it lets in admins only, and who read or steered a bank is worth a record. Operations are named
as the metrics name them: a REST route template ("POST /api/v1/transfers"), a SOAP operation its
contract knows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from bridge.domain.clock import Clock, utcnow
from bridge.observability import metrics
from bridge.observability.audit import (
    RESOURCE_KEY,
    SOAP_FAULT_KEY,
    SOURCE_KEY,
    mask_account,
    source_of,
    sourced,
)
from bridge.observability.correlation import ENVIRON_KEY as CORRELATION_KEY
from bridge.observability.logging import current_correlation_id
from bridge.security.access import CLIENT_ID_KEY, PRINCIPAL_KEY, Principal
from bridge.store.audit import AuditLog, AuditRecord
from bridge.wsgi import WSGIApp

AUDITED_DOORS = frozenset({"rest", "soap", "sims"})
# The dashboard (bridge.ui) writes its own entries, with interface "ui", saying what was done.
SELF_AUDITED = ("/ui/",)
# SOAP faultcodes (WS-Security 1.1, 12) that say the caller's credentials were refused.
_WSSE_REFUSALS = ("FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,119}")
_VARIABLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_]\w*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_]\w*)>")


def outcome_of(status: int) -> str:
    """The audit outcome of an HTTP status."""
    if status < 400:
        return "ok"
    return {
        401: "unauthenticated",
        403: "denied",
        404: "not_found",
        429: "rate_limited",
    }.get(status, "client_error" if status < 500 else "server_error")


def fault_outcome(faultcode: str | None, status: int) -> tuple[str, str]:
    """(outcome, status) of a SOAP fault answered with HTTP `status`: "soap:Client" and a
    client_error; a 401, 403, 404 or 429 keeps that status's outcome; "soap:Fault" and a
    server_error when the door did not say which fault it was."""
    if faultcode is None:
        return (outcome_of(status) if status != 500 else "server_error"), "soap:Fault"
    code = faultcode if ":" in faultcode else f"soap:{faultcode}"
    if status in (401, 403, 404, 429):
        return outcome_of(status), code
    local = code.rpartition(":")[2]
    if any(local.startswith(refusal) for refusal in _WSSE_REFUSALS):
        return "unauthenticated", code
    return ("server_error" if local.startswith("Server") else "client_error"), code


@lru_cache(maxsize=512)
def _route_pattern(template: str) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """A werkzeug rule ("/api/v1/shipments/<path:id>") as a regex over the path, and its
    variables' names; None for a rule without variables."""
    names: list[str] = []
    pattern, at = "", 0
    for found in _VARIABLE.finditer(template):
        pattern += re.escape(template[at : found.start()])
        pattern += "(.+)" if found["converter"] == "path" else "([^/]+)"
        names.append(found["name"])
        at = found.end()
    if not names:
        return None
    return re.compile(pattern + re.escape(template[at:])), tuple(names)


def resource_of(route: str | None, path: str) -> str | None:
    """The REST path's variables ("payroll/3" of /sync/jobs/payroll/runs/3), accounts masked."""
    if not route:
        return None
    compiled = _route_pattern(route.partition(" ")[2])
    if compiled is None:
        return None
    pattern, names = compiled
    matched = pattern.fullmatch(path)
    if matched is None:
        return None
    values = [
        mask_account(value) if name == "account" else value
        for name, value in zip(names, matched.groups(), strict=True)
    ]
    return "/".join(values)


class AuditMiddleware:
    """Writes one audit record per request on the REST and SOAP doors of the app it wraps.

    `soap_operations` (per mount path, as for `MetricsMiddleware`) names the operations a
    SOAPAction may name; without it, a plain SOAPAction is taken as it is."""

    def __init__(
        self,
        app: WSGIApp,
        audit_log: AuditLog,
        *,
        soap_operations: Mapping[str, frozenset[str]] | None = None,
        trusted_proxies: int = 0,
        clock: Clock = utcnow,
    ) -> None:
        self.app = app
        self.audit_log = audit_log
        self._soap_operations = None if soap_operations is None else dict(soap_operations)
        self._trusted_proxies = trusted_proxies
        self._clock = clock

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # Read before dispatching: DispatcherMiddleware rewrites PATH_INFO for mounted apps.
        path: str = environ.get("PATH_INFO") or "/"
        door = metrics.door_of(path)
        source = source_of(environ, self._trusted_proxies)
        environ[SOURCE_KEY] = source
        with sourced(source):
            if door not in AUDITED_DOORS or self._unaudited(door, environ):
                return self.app(environ, start_response)
            return self._audited(environ, start_response, door, path, source)

    @staticmethod
    def _unaudited(door: str, environ: Mapping[str, Any]) -> bool:
        """A SOAP door's WSDL (documentation, like the API document), and the dashboard."""
        path: str = environ.get("PATH_INFO") or "/"
        if path == "/ui" or path.startswith(SELF_AUDITED):
            return True
        return (
            door == "soap"
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("QUERY_STRING", "").lower() == "wsdl"
        )

    def _audited(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        door: str,
        path: str,
        source: str | None,
    ) -> Iterable[bytes]:
        at = self._clock()
        started = time.perf_counter()
        answered: list[str] = []
        xml = False

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal xml
            answered[:] = [status_line]
            xml = any(name.lower() == "content-type" and "xml" in value for name, value in headers)
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            self._write(environ, door, path, source, at, started, 500, xml=False)
            raise
        status = int(answered[0].split(" ", 1)[0]) if answered else 500
        self._write(environ, door, path, source, at, started, status, xml=xml)
        return body

    def _write(
        self,
        environ: dict[str, Any],
        door: str,
        path: str,
        source: str | None,
        at: datetime,
        started: float,
        status: int,
        *,
        xml: bool,
    ) -> None:
        latency_ms = (time.perf_counter() - started) * 1000
        principal: Principal | None = environ.get(PRINCIPAL_KEY)
        operation = self._operation(door, path, environ)
        faultcode: str | None = environ.get(SOAP_FAULT_KEY)
        if door == "soap" and (faultcode is not None or (status == 500 and xml)):
            outcome, status_text = fault_outcome(faultcode, status)
        else:
            outcome, status_text = outcome_of(status), str(status)
        resource = environ.get(RESOURCE_KEY)
        if resource is None and door == "rest":
            resource = resource_of(environ.get(metrics.ROUTE_KEY), path)
        self.audit_log.record(
            AuditRecord(
                at=at,
                client_id=principal.id if principal is not None else environ.get(CLIENT_ID_KEY),
                tier=principal.tier if principal is not None else None,
                interface=door,
                operation=operation,
                resource_id=None if resource is None else str(resource),
                outcome=outcome,
                status=status_text,
                latency_ms=round(latency_ms, 3),
                source=source,
                correlation_id=environ.get(CORRELATION_KEY) or current_correlation_id(),
            )
        )

    def _operation(self, door: str, path: str, environ: dict[str, Any]) -> str:
        if door == "soap" and self._soap_operations is None:
            if environ.get("REQUEST_METHOD") != "POST":
                return "other"
            action = environ.get("HTTP_SOAPACTION", "").strip().strip('"')
            return action if _PLAIN_NAME.fullmatch(action) else "unknown"
        return metrics.operation_of(door, path, environ, self._soap_operations or {})
