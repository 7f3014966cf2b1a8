"""A door of its own in front of a WSGI app that is not a REST or SOAP door: the simulators
mounted on the public port (`bridge.sims.gate`) and the Prometheus metrics at /metrics.

It lets in the clients an `Access` allows, by bearer token or API key, through the one admission
path (`bridge.security.admission`), and answers a refusal as JSON: 401 without or with a bad
credential (with `WWW-Authenticate: Bearer`), 403 with the wrong tier or scope, 429 over the
caller's rate limit (with `Retry-After`). Refused credentials are counted under the gate's door.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from bridge.domain.errors import AuthenticationFailed, Forbidden, RateLimited
from bridge.observability.audit import SOURCE_KEY
from bridge.security.access import Access
from bridge.security.admission import admit, http_credential

if TYPE_CHECKING:
    from bridge.security import Security

JSON = "application/json; charset=utf-8"


class ClientGate:
    """WSGI middleware: `app` for the clients `access` lets in, at `door`."""

    def __init__(
        self, app: WSGIApplication, security: Security, access: Access, *, door: str
    ) -> None:
        self.app = app
        self.security = security
        self.access = access
        self.door = door

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            admit(
                self.security,
                self.access,
                door=self.door,
                source=environ.get(SOURCE_KEY) or environ.get("REMOTE_ADDR"),
                caller=environ,
                authenticate=http_credential(
                    self.security,
                    environ.get("HTTP_AUTHORIZATION"),
                    environ.get("HTTP_X_API_KEY"),
                ),
            )
        except AuthenticationFailed as error:
            return refuse(
                start_response, "401 Unauthorized", error.detail, [("WWW-Authenticate", "Bearer")]
            )
        except Forbidden as error:
            return refuse(start_response, "403 Forbidden", error.detail)
        except RateLimited as error:
            return refuse(
                start_response,
                "429 Too Many Requests",
                error.detail,
                [("Retry-After", str(error.retry_after))],
            )
        return self.app(environ, start_response)


def refuse(
    start_response: StartResponse,
    status: str,
    detail: str,
    extra: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    """A refusal as `{"error": detail}`."""
    body = json.dumps({"error": detail}).encode()
    start_response(
        status, [("Content-Type", JSON), ("Content-Length", str(len(body))), *(extra or [])]
    )
    return [body]
