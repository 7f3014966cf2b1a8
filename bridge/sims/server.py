"""The simulators of one process, on a loopback server with threads of their own.

The bridge's upstream clients call the simulators over HTTP. Served from the bridge's own
gunicorn worker, each such call would wait for a thread of the same pool that is itself waiting
for a call: at 16 concurrent transfers on 8 threads, every thread waits and nothing moves
(DESIGN.md, pitfalls). So every process that serves the bridge with simulators on also runs them
here, on werkzeug's threaded server (one thread per connection, none shared with the bridge) on an
ephemeral port of 127.0.0.1, and its upstream clients without a URL of their own call this
address. It is started by `create_app`, in each gunicorn worker after the fork (never in the
master, whose threads a fork would not carry over), and stopped by `Bridge.close`.

Only the bridge's own clients get in: each process draws a random secret that its upstream
sessions send in `SECRET_HEADER` (`bridge.sims.gate.SecretOnly`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from wsgiref.types import WSGIApplication

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bridge.sims.gate import SECRET_HEADER, SecretOnly

HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    """Without a log line per call: the bridge logs and counts its upstream calls itself."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SimulatorServer:
    """`apps` (mount path -> WSGI app, e.g. "/sims/corebank") served on 127.0.0.1:<ephemeral>."""

    def __init__(self, apps: Mapping[str, WSGIApplication]) -> None:
        self.secret = secrets.token_urlsafe(32)
        # Read on every request: what is served can be wrapped while it runs (a test's probe).
        self.apps: dict[str, WSGIApplication] = dict(apps)
        app = SecretOnly(DispatcherMiddleware(NotFound(), self.apps), self.secret)
        self._server: BaseWSGIServer = make_server(
            HOST, 0, app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://{HOST}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="simulators", daemon=True
        )
        self._thread.start()

    @property
    def headers(self) -> dict[str, str]:
        """What a client of this server sends on every request."""
        return {SECRET_HEADER: self.secret}

    def address(self, name: str) -> str:
        return f"{self.url}/sims/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __repr__(self) -> str:  # never the secret
        return f"SimulatorServer({self.url})"
