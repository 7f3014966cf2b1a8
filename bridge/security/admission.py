"""Admission of a plain HTTP request to one operation: credential, declaration, rate limit.

The steps every door takes, in its order: the `Authorization: Bearer` or `X-API-Key` credential
becomes a `Principal` within `Security.attempt` (which refuses a source locked out for guessing
and counts a refused credential), the operation's `Access` lets it in or not, and the caller's
plan has room for one more call. Framework-free: a door passes header values and maps the errors
(`AuthenticationFailed` 401, `Forbidden` 403, `RateLimited` 429) to its wire form and counts
them in its metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.security.access import Access, Principal

if TYPE_CHECKING:
    from bridge.security import Security


def admit_http(
    security: Security,
    access: Access,
    *,
    authorization: str | None,
    api_key: str | None,
    source: str | None,
    door: str,
) -> Principal:
    """The caller, let in to an operation declared by `access`; or the refusal, raised."""
    with security.attempt(door, source):
        principal = security.authenticator.http(authorization, api_key)
    access.check(principal)
    if security.limiter is not None:
        security.limiter.hit(principal.id, principal.plan)
    return principal
