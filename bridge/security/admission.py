"""Admission of one call to one operation: the one path every door takes.

    principal, quota = admit(security, access, door="rest", source=..., caller=environ,
                             authenticate=lambda: ...)

in this order:

1. the credential becomes a `Principal` inside `Security.attempt`, which refuses a source or a
   client id locked out for guessing (`TooManyFailures`, 429) before anything is checked, and
   counts a refused credential (`AuthenticationFailed`, 401) once, for the metrics, the burst
   watch and the throttle;
2. the caller is recorded in `caller` (the WSGI environ: `PRINCIPAL_KEY`, `CLIENT_ID_KEY`) as
   soon as it is known, so a call refused from here on is still audited with who made it;
3. the operation's `Access` (None: undeclared, closed) lets the caller in or raises
   `Forbidden` (403);
4. the caller's rate-limit plan has room for the call, or `RateLimited` (429) is raised and
   counted.

Framework-free: each door hands in how its credential is read (`authenticate`) and maps the
errors of `bridge.domain.errors` to its wire form, once, where it maps every other error.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from bridge.domain.errors import Forbidden, RateLimited
from bridge.security.access import CLIENT_ID_KEY, PRINCIPAL_KEY, Access, Principal
from bridge.security.ratelimit import Quota

if TYPE_CHECKING:
    from bridge.security import Security


def admit(
    security: Security,
    access: Access | None,
    *,
    door: str,
    source: str | None,
    caller: MutableMapping[str, Any],
    authenticate: Callable[[], Principal],
    claimed: str | None = None,
    operation: str = "this operation",
) -> tuple[Principal, Quota | None]:
    """The caller, let in, and what is left of its budget (None: unlimited or no limiter); or
    the refusal, raised. `claimed` is the client id the credential names before it is checked
    (a UsernameToken's Username), for the throttle."""
    with security.attempt(door, source, claimed):
        principal = authenticate()
    caller[PRINCIPAL_KEY] = principal
    caller[CLIENT_ID_KEY] = principal.id
    if access is None:
        raise Forbidden(f"{operation} declares no access and is closed")
    access.check(principal)
    if security.limiter is None:
        return principal, None
    try:
        return principal, security.limiter.hit(principal.id, principal.plan)
    except RateLimited:
        security.rate_limited(door)
        raise


def http_credential(
    security: Security, authorization: str | None, api_key: str | None
) -> Callable[[], Principal]:
    """`authenticate` for a door that takes `Authorization: Bearer` or `X-API-Key`."""
    return lambda: security.authenticator.http(authorization, api_key)
