"""`GET /api/v1/audit`: the audit log, for our own operators (private clients with `audit:read`).

Newest first, filtered by time (`since` inclusive, `until` exclusive), client, outcome and
interface, a page of `limit` at a time; `next_cursor` continues after the last entry of a page
(keyset on the entry id, so entries written meanwhile never shift a page). Reading flushes this
process's buffered records first, so a caller sees its own earlier calls (those answered by
other workers or nodes appear within their writer's flush interval, about 0.2 s).

`record_admin_action` is how an admin route says what it changed (a replay, a run), as an
"admin" entry beside the request's own "rest" entry written by `AuditMiddleware`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import Response, request
from pydantic import Field

from bridge.domain.clock import as_utc, utcnow
from bridge.domain.errors import ConfigurationError
from bridge.observability.audit import SOURCE_KEY
from bridge.observability.correlation import ENVIRON_KEY as CORRELATION_KEY
from bridge.rest import cursor
from bridge.rest.auth import protect
from bridge.rest.blueprint import resource
from bridge.rest.openapi import answers
from bridge.rest.params import Parameters, cursor_parameter, limit_parameter
from bridge.rest.schemas import AuditEntry, AuditList
from bridge.rest.wire import bridge, canonical_response
from bridge.security.access import PRINCIPAL_KEY
from bridge.store.audit import MAX_LIMIT, AuditInterface, AuditOutcome, AuditRecord

if TYPE_CHECKING:
    from bridge.security.access import Principal
    from bridge.store.audit import AuditLog

audit = resource(
    "audit", __name__, "Who did what through which door, with what outcome (operators only)"
)

AUDIT_SCOPE = "audit:read"
DEFAULT_LIMIT = 100


class AuditQuery(Parameters):
    since: datetime | None = Field(
        default=None,
        description="Only entries at or after this time (ISO 8601; UTC when no offset is given)",
    )
    until: datetime | None = Field(default=None, description="Only entries before this time")
    client_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Only this API client's entries"
    )
    outcome: AuditOutcome | None = Field(
        default=None,
        description="Only entries with this outcome (`security_event` for the security events)",
    )
    interface: AuditInterface | None = Field(
        default=None, description="Only entries of this interface"
    )
    limit: int = limit_parameter(DEFAULT_LIMIT, MAX_LIMIT, "Entries")
    cursor: str | None = cursor_parameter()


@audit.get(
    "/audit",
    operation_id="listAuditEntries",
    summary="Read the audit log",
    description="Newest first, at most `limit` per page; pass `next_cursor` as `cursor` for the "
    "next page (null on the last). Every call on the REST and SOAP doors, every sync delivery, "
    "admin action and security event has an entry; account numbers are masked and secrets "
    "are never recorded.",
    responses=answers("AuditList", "One page of the audit log"),
)
@protect(AUDIT_SCOPE, "private")
def list_audit_entries(query: AuditQuery) -> Response:
    log = audit_log()
    log.flush()
    page, next_cursor = cursor.one_page(
        lambda limit: log.query(
            since=as_utc(query.since),
            until=as_utc(query.until),
            client_id=query.client_id,
            outcome=query.outcome,
            interface=query.interface,
            before_id=None if query.cursor is None else cursor.decode_id_after(query.cursor),
            limit=limit,
        ),
        query.limit,
        lambda last: cursor.encode_after(last.at, str(last.id)),
    )
    return canonical_response(
        AuditList(entries=[_entry(record) for record in page], next_cursor=next_cursor)
    )


def audit_log() -> AuditLog:
    """This bridge's audit log (`Bridge.audit`, made by `create_app`)."""
    found: AuditLog | None = getattr(bridge(), "audit", None)
    if found is None:
        raise ConfigurationError("this bridge was built without an audit log")
    return found


def record_admin_action(
    operation: str, *, resource_id: str | None = None, detail: str | None = None
) -> None:
    """Record what an admin route of this request did (interface "admin"); nothing in an app
    composed without an audit log."""
    if getattr(bridge(), "audit", None) is None:
        return
    principal: Principal | None = request.environ.get(PRINCIPAL_KEY)
    audit_log().record(
        AuditRecord(
            at=utcnow(),
            client_id=None if principal is None else principal.id,
            tier=None if principal is None else principal.tier,
            interface="admin",
            operation=operation,
            resource_id=resource_id,
            outcome="ok",
            status="done",
            source=request.environ.get(SOURCE_KEY) or request.remote_addr,
            correlation_id=request.environ.get(CORRELATION_KEY),
            detail=detail,
        )
    )


def _entry(record: AuditRecord) -> AuditEntry:
    assert record.id is not None  # read back from the table
    return AuditEntry(**{name: getattr(record, name) for name in AuditRecord.__dataclass_fields__})
