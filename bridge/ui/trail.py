"""The dashboard in the audit log: what operators did here (interface "ui"), and the audit
panel's search of everything the log holds.

Every sign-in (and every refused one), sign-out, replay and run by hand is recorded, with the
operator's client id, the caller's address and the request's correlation id; a form refused for
its CSRF token is a `security_event`. Refused sign-ins also count in
`bridge_auth_failures_total{door="ui"}` and reach `Security.failed`, like refused credentials
on the other doors.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import current_app, g, request

from bridge.domain.clock import utcnow
from bridge.observability.audit import current_source
from bridge.observability.logging import current_correlation_id
from bridge.store.audit import INTERFACES, OUTCOMES, AuditLog, AuditRecord

if TYPE_CHECKING:
    from bridge.components import Bridge

INTERFACE = "ui"
EXTENSION = "bridge.ui.audit"
PAGE = 50
# <input type="datetime-local"> sends minutes, or seconds when the step asks for them.
_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def audit_log(bridge: Bridge) -> AuditLog:
    """The process's audit log: the bridge's own when it has one, else one for the dashboard."""
    shared = getattr(bridge, "audit", None)
    return shared if isinstance(shared, AuditLog) else AuditLog(bridge.engine)


def _log() -> AuditLog:
    found: AuditLog = current_app.extensions[EXTENSION]
    return found


def record(
    operation: str,
    outcome: str,
    status: int,
    *,
    client_id: str | None = None,
    tier: str | None = None,
    resource_id: str | None = None,
    detail: str | None = None,
) -> None:
    """One entry for this request; the operator signed in, unless `client_id` says who."""
    operator = g.get("operator")
    if client_id is None and operator is not None:
        client_id, tier = operator.id, "private"
    started = g.get("started")
    _log().record(
        AuditRecord(
            at=utcnow(),
            client_id=client_id,
            tier=tier,
            interface=INTERFACE,
            operation=operation,
            resource_id=resource_id,
            outcome=outcome,
            status=str(status),
            latency_ms=None if started is None else (time.perf_counter() - started) * 1000,
            source=_source(),
            correlation_id=current_correlation_id(),
            detail=detail,
        )
    )


def _source() -> str | None:
    """The caller's address: as the audit middleware worked it out (trusted proxies), else the
    connection's peer."""
    return current_source() or request.remote_addr


def sign_in_refused(
    bridge: Bridge, client_id: str | None, detail: str, *, tier: str | None = None
) -> None:
    """A refused sign-in, audited. A wrong id or secret (no `tier`: nobody was recognised) also
    counts as a refused credential, where bursts are watched for; a recognised client without
    the tier or scope is only `denied`."""
    if tier is None:
        record("login", "unauthenticated", 401, client_id=client_id, detail=detail)
        bridge.security.failed(_source(), INTERFACE, "invalid", client_id)
    else:
        record("login", "denied", 403, client_id=client_id, tier=tier, detail=detail)


def check_throttle(bridge: Bridge, client_id: str | None) -> None:
    """Refuse (`TooManyFailures`) a sign-in from a source, or for a client id, locked out for
    guessing; nothing otherwise."""
    if bridge.security.throttle is not None:
        bridge.security.throttle.check(_source(), client_id)


def sign_in_throttled(bridge: Bridge, client_id: str | None, detail: str) -> None:
    record("login", "rate_limited", 429, client_id=client_id, detail=detail)
    if bridge.security.on_throttled is not None:
        bridge.security.on_throttled(INTERFACE)


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """The audit panel: the filters as typed, the rows found, and where the next page starts."""

    filters: Mapping[str, str]
    records: list[AuditRecord]
    older: int | None
    problems: list[str]
    interfaces: list[str]
    outcomes: list[str]


def search(arguments: Mapping[str, str]) -> AuditSearch:
    """Read the filters from the query string and the page of records they select. A filter
    that does not parse is named in `problems` and not applied."""
    names = ("client_id", "outcome", "interface", "since", "until", "before")
    filters = {name: arguments.get(name, "").strip() for name in names}
    problems: list[str] = []
    since = _moment(filters["since"], "since", problems)
    until = _moment(filters["until"], "until", problems)
    before = None
    if filters["before"]:
        if filters["before"].isdigit():
            before = int(filters["before"])
        else:
            problems.append("before: a record id")
    if filters["outcome"] and filters["outcome"] not in OUTCOMES:
        problems.append(f"outcome: one of {', '.join(sorted(OUTCOMES))}")
        filters["outcome"] = ""
    if filters["interface"] and filters["interface"] not in INTERFACES:
        problems.append(f"interface: one of {', '.join(sorted(INTERFACES))}")
        filters["interface"] = ""
    found = _log().query(
        since=since,
        until=until,
        client_id=filters["client_id"] or None,
        outcome=filters["outcome"] or None,
        interface=filters["interface"] or None,
        before_id=before,
        limit=PAGE + 1,
    )
    page = found[:PAGE]
    older = page[-1].id if len(found) > PAGE and page else None
    return AuditSearch(filters, page, older, problems, sorted(INTERFACES), sorted(OUTCOMES))


def _moment(text: str, name: str, problems: list[str]) -> datetime | None:
    if not text:
        return None
    for layout in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    problems.append(f"{name}: a time as YYYY-MM-DDTHH:MM (UTC)")
    return None
