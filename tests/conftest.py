"""Shared fixtures. Unit tests never reach the network: only loopback servers a test starts."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from bridge.app import Bridge, create_app
from bridge.mapping import Mappings
from bridge.settings import Settings
from tests.credentials import Credentials, authorized, grant

# Apps built by tests run no scheduler unless a test asks for one (Settings(scheduler=True)):
# a scheduler thread firing on a test's database would make results depend on the clock.
os.environ.setdefault("BRIDGE_SCHEDULER", "false")

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def mappings() -> Mappings:
    return Mappings.load()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def _service_unavailable(reason: str) -> None:
    """Skip, or fail when CI requires the real services (BRIDGE_REQUIRE_SERVICES=1)."""
    if os.environ.get("BRIDGE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    base = os.environ.get("BRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        admin = psycopg.connect(base, autocommit=True, connect_timeout=3)
    except Exception as exc:
        _service_unavailable(f"PostgreSQL at {base} not reachable ({type(exc).__name__})")
    name = f"bridge_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server of this test session (BRIDGE_TEST_REDIS_URL), shared by all tests:
    each keeps its keys under its own `redis_prefix`."""
    url = os.environ.get("BRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except Exception as exc:
        _service_unavailable(f"Redis at {url} not reachable ({type(exc).__name__})")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own in the shared Redis; its keys are deleted afterwards."""
    prefix = f"bridge-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bridge.db'}"


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


@pytest.fixture
def live_bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    """The whole bridge on the embedded default (SQLite, simulators in process), per test."""
    with serve_bridge(database_url=f"sqlite:///{tmp_path / 'bridge.db'}") as live:
        yield live
