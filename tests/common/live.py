"""The whole bridge serving on a loopback port in a thread of this process (real sockets)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from tests.credentials import Credentials, authorized, grant


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveBridge:
    """A bridge serving on a loopback port in a thread of this process (real sockets).

    With `credentials`, a request that brings no credential of its own gets their API key (as
    a configured client library would send it); a test of refusals serves with
    ``serve_bridge(default_credentials=False)``."""

    url: str
    bridge: Bridge
    credentials: Credentials | None = None


@contextmanager
def serve_bridge(*, default_credentials: bool = True, **overrides: Any) -> Iterator[LiveBridge]:
    port = free_port()
    settings = Settings(host="127.0.0.1", port=port, scheduler=False, **overrides)
    bridge = create_app(settings)
    credentials = grant(bridge.engine) if default_credentials else None
    app = bridge if credentials is None else authorized(bridge, credentials)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-bridge", daemon=True)
    thread.start()
    try:
        yield LiveBridge(url=settings.base_url, bridge=bridge, credentials=credentials)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        bridge.close()  # and its simulator server


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Any WSGI app on a free loopback port in a thread of this process; yields its base URL
    (`http://127.0.0.1:PORT`)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-wsgi", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
