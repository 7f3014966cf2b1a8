"""The dashboard's Flask app: server-rendered pages for operators, mounted at /ui.

A small Flask app of its own, not a blueprint of the OpenAPI app: it speaks HTML forms and
cookies, not JSON and bearer tokens, and it is mounted beside the REST door with
`DispatcherMiddleware`, so it guards itself (`_guard`): every page but the login page and the
stylesheet needs a signed-in operator, every POST the session's CSRF token.

Pages carry no script and nothing from another origin: the stylesheet is in the package, charts
are inline SVG, and the Content-Security-Policy says so to the browser as well.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from bridge.domain.clock import as_utc, utcnow
from bridge.sync.status import Run
from bridge.ui import trail, views
from bridge.ui.keys import session_key
from bridge.ui.session import (
    COOKIE_NAME,
    CsrfRefused,
    KeyedSessionInterface,
    check_csrf,
    client_registry,
    csrf_token,
    current_operator,
)

if TYPE_CHECKING:
    from bridge.components import Bridge

HERE = Path(__file__).parent
# Forms are a few fields; nothing larger is a request this app takes.
MAX_FORM_BYTES = 16 * 1024
# No script, no frames, nothing from elsewhere; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
OPEN_ENDPOINTS = frozenset({"ui.login", "ui.sign_in_form", "static"})


def create_ui(bridge: Bridge) -> Flask:
    """The dashboard of `bridge`, to mount at /ui."""
    settings = bridge.settings
    app = Flask(
        "bridge.ui",
        root_path=str(HERE),
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    app.session_interface = KeyedSessionInterface(lambda: session_key(settings))
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.ui_session_hours),
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES,
    )
    app.extensions["bridge"] = bridge
    app.extensions[trail.EXTENSION] = trail.audit_log(bridge)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["utc"] = utc_text
    app.jinja_env.filters["duration"] = duration_text
    app.before_request(_guard)
    app.after_request(_secure_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CsrfRefused, _csrf_refused)
    app.register_blueprint(views.ui)
    return app


def _guard() -> ResponseReturnValue | None:
    """Sign-in and CSRF, before any view: the one place the dashboard's protection lives."""
    g.started = time.perf_counter()
    if request.endpoint == "static":
        g.operator = None
        return None
    g.operator = current_operator(
        client_registry(), current_app.permanent_session_lifetime, utcnow()
    )
    if request.method == "POST":
        check_csrf(request)
    if g.operator is None and request.endpoint not in OPEN_ENDPOINTS:
        wanted = (
            request.script_root + request.full_path.rstrip("?") if request.method == "GET" else None
        )
        return redirect(url_for("ui.login", next=wanted))
    return None


def _secure_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    return render_template(
        "error.html", code=code, title=error.name, detail=error.description
    ), code


def _csrf_refused(error: CsrfRefused) -> ResponseReturnValue:
    trail.record(
        "form_refused", "security_event", 403, resource_id=request.path, detail=error.detail
    )
    return render_template("error.html", code=403, title="Form refused", detail=error.detail), 403


def utc_text(moment: Any) -> str:
    """A timestamp as operators read it: UTC, to the second."""
    if not isinstance(moment, datetime):
        return "" if moment is None else str(moment)
    return as_utc(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(run: Run) -> str:
    """How long a job run took, or 'running'."""
    seconds = run.seconds
    if seconds is None:
        return "running"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
