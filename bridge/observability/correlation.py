"""Correlation ids: one per request, taken from `X-Request-ID` or made here, echoed back.

A WSGI middleware, so it covers every door mounted under one server (Flask blueprints and the
spyne apps alike, which Flask hooks cannot see). Code below the door reads it from the environ,
or from `bridge.observability.logging.CORRELATION_ID`, which is set while the app is called
(log records and upstream calls pick it up there).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from bridge.observability.logging import correlated
from bridge.wsgi import WSGIApp

ENVIRON_KEY = "bridge.correlation_id"
HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def correlation_id(environ: dict[str, Any]) -> str:
    value: str = environ.get(ENVIRON_KEY) or ""
    return value


class CorrelationMiddleware:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        # A caller's id is kept only if it is short and plain (it goes into logs and headers).
        cid = offered if _ACCEPTABLE.fullmatch(offered) else uuid.uuid4().hex
        environ[ENVIRON_KEY] = cid

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [h for h in headers if h[0].lower() != "x-request-id"]
            headers.append((HEADER, cid))
            return start_response(status, headers, exc_info)

        with correlated(cid):
            return self.app(environ, start)
