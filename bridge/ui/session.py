"""Who is signed in to the dashboard, and the forms they may post.

The dashboard sits beside the REST door (mounted with `DispatcherMiddleware`), so the REST
door's deny-by-default hook never sees it: it protects itself here. An operator signs in with
the id and secret of an API client of the `private` tier holding `sync:admin` (`DASHBOARD`),
and the dashboard remembers them in Flask's signed cookie session: HttpOnly, SameSite=Strict,
Secure behind https, scoped to the dashboard's path. The session carries the client id, when
the login happened (a login lasts `ui_session_hours` however busy it is) and a CSRF token.
Every request reads the client again, so disabling it, or taking its tier or scope away, signs
it out at its next click.

Every form that changes something carries the session's CSRF token, compared in constant time:
SameSite=Strict already keeps other sites' forms from arriving signed in, the token keeps them
out in browsers that do not honour it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

from bridge.domain.errors import Forbidden, NotFound
from bridge.security.access import Access, Principal, allow
from bridge.security.clients import ApiClient, ClientRegistry

# Who may sign in: our own operators, with the scope that operates the sync jobs.
DASHBOARD: Access = allow("sync:admin", ("private",))
CSRF_FIELD = "csrf_token"
COOKIE_NAME = "bridge_ui"

_CLIENT = "client_id"
_NAME = "client_name"
_SIGNED_IN_AT = "signed_in_at"
_CSRF = "csrf"


class CsrfRefused(Forbidden, kind="csrf-refused"):
    """A form arrived without this session's CSRF token (403, as Django answers it)."""


@dataclass(frozen=True, slots=True)
class Operator:
    """The API client signed in to the dashboard."""

    id: str
    name: str
    signed_in_at: datetime


class KeyedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with a key read on first use (a key file may have to be
    made) and the cookie scoped to wherever the dashboard is mounted."""

    def __init__(self, key: Callable[[], str]) -> None:
        self._key = key
        self._lock = threading.Lock()

    def get_signing_serializer(self, app: Flask) -> Any:
        if not app.secret_key:
            with self._lock:
                if not app.secret_key:
                    app.secret_key = self._key()
        return super().get_signing_serializer(app)

    def get_cookie_path(self, app: Flask) -> str:
        root: str = request.script_root if has_request_context() else ""
        return root or "/"


def admit(client: ApiClient) -> Principal:
    """The client as an operator of the dashboard, or `Forbidden` saying what it lacks."""
    if not client.active:
        raise Forbidden("this client is disabled")
    principal = Principal(client, client.scopes, "session")
    try:
        DASHBOARD.check(principal)
    except Forbidden:
        holding = "with" if DASHBOARD.scope in client.scopes else "without"
        raise Forbidden(
            f"The dashboard is for private clients holding the scope {DASHBOARD.scope}; "
            f"this is a {client.tier} client {holding} it."
        ) from None
    return principal


def client_registry() -> ClientRegistry:
    """The registry operators sign in against: the bridge's own."""
    registry: ClientRegistry = current_app.extensions["bridge"].security.clients
    return registry


def sign_in(client: ApiClient, now: datetime) -> None:
    """A fresh session for `client`: nothing of the session before it is kept."""
    session.clear()
    session.permanent = True
    session[_CLIENT] = client.id
    session[_NAME] = client.name
    session[_SIGNED_IN_AT] = now.isoformat()
    session[_CSRF] = secrets.token_urlsafe(32)


def sign_out() -> None:
    session.clear()


def current_operator(
    clients: ClientRegistry, lifetime: timedelta, now: datetime
) -> Operator | None:
    """The operator of this request's session, if it is signed in and may still be."""
    client_id = session.get(_CLIENT)
    if not isinstance(client_id, str):
        return None
    try:
        signed_in_at = datetime.fromisoformat(str(session.get(_SIGNED_IN_AT)))
    except ValueError:
        sign_out()
        return None
    if signed_in_at.tzinfo is None or now - signed_in_at >= lifetime:
        sign_out()
        return None
    try:
        admit(clients.get(client_id))
    except (NotFound, Forbidden):
        sign_out()
        return None
    return Operator(client_id, str(session.get(_NAME, client_id)), signed_in_at.astimezone(UTC))


def csrf_token() -> str:
    """This session's CSRF token (made for a visitor not signed in yet: the login form)."""
    token = session.get(_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_CSRF] = token
    return token


def check_csrf(form_request: Request) -> None:
    """Nothing, or `CsrfRefused` when the form's token is not this session's."""
    expected = session.get(_CSRF)
    sent = form_request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(
        sent.encode("utf-8"), expected.encode("utf-8")
    ):
        raise CsrfRefused(
            "this form did not come from your dashboard session (or the session ended): "
            "reload the page and try again"
        )
