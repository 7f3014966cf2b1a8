"""What the audit trail reads of a call, kept below every layer that records or serves one.

The doors leave in the WSGI environ what the audit middleware (`bridge.security.audit`) reads
after they have answered:

    bridge.principal       the authenticated caller (`bridge.security.access.PRINCIPAL_KEY`)
    bridge.client_id       the client id, when a door knows it without a principal
    bridge.audit.resource  the object the call was about, when a route names it (a created
                           transfer's id); otherwise the REST path's variables ("payroll/3")
    bridge.soap.fault      the faultcode of a SOAP fault the door answered ("Client", "Server")
    bridge.audit.source    the caller's address, as the middleware worked it out

The source address is REMOTE_ADDR; behind `trusted_proxies` reverse proxies it is the address
that many hops from the right of X-Forwarded-For, the one the nearest trusted proxy saw (an
address further left could be anything the caller wrote). The middleware binds it for the
request (`sourced`); code below reads it with `current_source()`, as the security events do.
Here, and not beside the middleware, because the doors, the security events and the
simulators' gate all read it, and none of them may import what sits above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from bridge.domain.redaction import redact_text
from bridge.observability.context import bound

RESOURCE_KEY = "bridge.audit.resource"
SOAP_FAULT_KEY = "bridge.soap.fault"
SOURCE_KEY = "bridge.audit.source"

_SOURCE: ContextVar[str | None] = ContextVar("bridge_audit_source", default=None)


def current_source() -> str | None:
    """The source address of the request this code runs for, if any."""
    return _SOURCE.get()


def sourced(source: str | None) -> AbstractContextManager[None]:
    """Within the block, `current_source()` is `source` (one request's worth of code)."""
    return bound(_SOURCE, source)


def source_of(environ: Mapping[str, Any], trusted_proxies: int = 0) -> str | None:
    """The caller's address: REMOTE_ADDR, or with `trusted_proxies` proxies in front of us, the
    address the outermost trusted one saw (the `trusted_proxies`-th from the right of
    X-Forwarded-For). A header shorter than that means a proxy is missing: REMOTE_ADDR then."""
    remote: str | None = environ.get("REMOTE_ADDR") or None
    if trusted_proxies <= 0:
        return remote
    forwarded = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [hop for hop in forwarded if hop]
    if len(forwarded) < trusted_proxies:
        return remote
    address: str = forwarded[-trusted_proxies]
    return address


def mask_account(value: str) -> str:
    """An account number as the audit log keeps it: an IBAN as the logs mask it (`DE89…3000`),
    any other identifier by its last four characters only."""
    masked = redact_text(value)
    return masked if masked != value else "…" + value[-4:]
