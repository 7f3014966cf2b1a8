"""Who may call each REST route: one line where the route is defined, checked before it runs.

    @transfers.post("/transfers", ...)
    @protect("transfers:write", "partner", "private")
    def create_transfer(...): ...

    @health.get("/healthz")
    @open_access
    def healthz(): ...

`protect` and `open_access` only mark the view (flask-openapi3 copies the mark onto the view it
registers); `authorize`, the app's before-request hook, does the work for every request:

1. the route's declaration, or `Forbidden` when it has none (deny by default; `undeclared`
   lists such routes at start-up, and the app refuses to start with any);
2. the credential (`Authorization: Bearer` or `X-API-Key`) → `Principal`, or 401; 429 without
   looking at it when its source has had too many refused (`Security.attempt`);
3. the tier and scope the route declares, or 403;
4. the caller's rate-limit plan, or 429 (the quota goes out as `RateLimit-*` headers).

Authentication runs before the body is read or validated, so a caller without credentials
learns nothing about a route but that it exists. The principal is left in the WSGI environ
(`PRINCIPAL_KEY`, and its id under `CLIENT_ID_KEY`), where services' scoping, the audit log and
the metrics find it. Refusals are errors of `bridge.domain.errors`, answered by `problems.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Response, g, request

from bridge.observability.audit import current_source
from bridge.security.access import (
    OPEN,
    PRINCIPAL_KEY,
    Access,
    Principal,
    allow,
)
from bridge.security.admission import admit, http_credential
from bridge.security.clients import TIERS

if TYPE_CHECKING:
    from bridge.security import Security

View = TypeVar("View", bound=Callable[..., Any])
ACCESS_ATTRIBUTE = "__bridge_access__"
DOOR = "rest"
# flask-openapi3's blueprints: the API document, Swagger UI and its assets; the docs page.
OPEN_BLUEPRINTS = frozenset({"openapi", "swagger"})
OPEN_ENDPOINTS = frozenset({"static", "api_docs"})
_QUOTA = "bridge_quota"


def protect(scope: str | None, *tiers: str) -> Callable[[View], View]:
    """Declare a route for callers of `tiers` (all tiers when none is named) holding `scope`."""
    access = allow(scope, tiers or TIERS)

    def mark(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, access)
        return view

    return mark


def open_access(view: View) -> View:
    """Declare a route open to anyone, without credentials (health checks, the token endpoint)."""
    setattr(view, ACCESS_ATTRIBUTE, OPEN)
    return view


def declared(app: Flask, endpoint: str) -> Access | None:
    """The declaration of `endpoint`; None when it declares nothing."""
    if endpoint in OPEN_ENDPOINTS or endpoint.partition(".")[0] in OPEN_BLUEPRINTS:
        return OPEN
    view = app.view_functions.get(endpoint)
    found: Access | None = getattr(view, ACCESS_ATTRIBUTE, None)
    return found


def undeclared(app: Flask) -> list[str]:
    """Routes (as "METHODS /rule") whose view declares no access."""
    return sorted(
        f"{','.join(sorted((rule.methods or set()) - {'HEAD', 'OPTIONS'}))} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if declared(app, rule.endpoint) is None
    )


def install(app: Flask, security: Security) -> None:
    """Check every request against its route's declaration (see the module docstring)."""

    def authorize() -> None:
        endpoint = request.endpoint
        if endpoint is None:  # no route: the 404 or 405 answers it
            return
        access = declared(app, endpoint)
        if access is not None and access.open:
            return
        _, quota = admit(
            security,
            access,
            door=DOOR,
            source=source(),
            caller=request.environ,
            authenticate=http_credential(
                security, request.headers.get("Authorization"), request.headers.get("X-API-Key")
            ),
        )
        g.setdefault(_QUOTA, quota)

    def quota_headers(response: Response) -> Response:
        quota = g.get(_QUOTA)
        if quota is not None and security.limiter is not None:
            response.headers.update(security.limiter.headers(quota))
        return response

    app.before_request(authorize)
    app.after_request(quota_headers)


def principal() -> Principal | None:
    """The caller of the current request, once `authorize` has let it in."""
    found: Principal | None = request.environ.get(PRINCIPAL_KEY)
    return found


def source() -> str | None:
    """The caller's address: as the audit middleware worked it out (trusted proxies), else the
    connection's peer."""
    return current_source() or request.remote_addr
