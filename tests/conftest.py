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
    """A bridge serving on a loopback port in a thread of this process (real sockets)."""

    url: str
    bridge: Bridge


@contextmanager
def serve_bridge(**overrides: Any) -> Iterator[LiveBridge]:
    port = free_port()
    settings = Settings(host="127.0.0.1", port=port, scheduler=False, **overrides)
    bridge = create_app(settings)
    server = make_server("127.0.0.1", port, bridge, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-bridge", daemon=True)
    thread.start()
    try:
        yield LiveBridge(url=settings.base_url, bridge=bridge)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        bridge.engine.dispose()


@pytest.fixture
def live_bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    """The whole bridge on the embedded default (SQLite, simulators in process), per test."""
    with serve_bridge(database_url=f"sqlite:///{tmp_path / 'bridge.db'}") as live:
        yield live
