"""Who may reach the simulators: they are a bank, with balances, salaries and payments.

Two doors, both closed by default:

- the public mount `/sims/<name>` on the bridge's own port (SOAP calls, `?wsdl`, `_control`,
  pages) lets in private clients holding `simulators:admin` (`SIMULATORS_ACCESS`), by bearer
  token or API key, as the REST door does (`bridge.security.admission`): 401 without or with a
  bad credential, 403 with the wrong tier or scope, 429 over the caller's rate limit;
- the process's own simulator server (`bridge.sims.server`) lets in only requests carrying the
  per-process random secret in `SECRET_HEADER`, which only the bridge's own upstream clients send.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from bridge.security.access import allow
from bridge.security.gate import ClientGate, refuse

if TYPE_CHECKING:
    from bridge.security import Security

DOOR = "sims"
SIMULATORS_ACCESS = allow("simulators:admin", ("private",))
SECRET_HEADER = "X-Bridge-Simulator-Secret"  # noqa: S105 (a header name, not a secret)
_SECRET_ENVIRON = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")


def admin_only(app: WSGIApplication, security: Security) -> ClientGate:
    """The simulators mounted on the public port, for private clients holding
    `simulators:admin`."""
    return ClientGate(app, security, SIMULATORS_ACCESS, door=DOOR)


class SecretOnly:
    """WSGI middleware in front of the process's own simulator server."""

    def __init__(self, app: WSGIApplication, secret: str) -> None:
        self.app = app
        self._secret = secret.encode()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        given = environ.get(_SECRET_ENVIRON, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, self._secret):
            return refuse(
                start_response, "403 Forbidden", "this server answers the bridge's own clients only"
            )
        return self.app(environ, start_response)
