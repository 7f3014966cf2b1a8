"""Shared fixtures. Unit tests never reach the network: only loopback servers a test starts."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bridge.mapping import Mappings
from tests.common.databases import migrated_engine
from tests.common.live import LiveBridge, serve_bridge
from tests.common.no_network import refuse_network
from tests.common.services import service_unavailable

# Apps built by tests run no scheduler unless a test asks for one (Settings(scheduler=True)):
# a scheduler thread firing on a test's database would make results depend on the clock.
os.environ.setdefault("BRIDGE_SCHEDULER", "false")

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def no_network() -> Iterator[None]:
    """Every test, and every session fixture, reaches loopback and Unix sockets only."""
    with refuse_network():
        yield


@pytest.fixture(scope="session")
def mappings() -> Mappings:
    return Mappings.load()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    base = os.environ.get("BRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        admin = psycopg.connect(base, autocommit=True, connect_timeout=3)
    except Exception as exc:
        service_unavailable(f"PostgreSQL at {base} not reachable ({type(exc).__name__})")
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
        service_unavailable(f"Redis at {url} not reachable ({type(exc).__name__})")
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


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated SQLite database of the test's own (modules that need another override it)."""
    yield from migrated_engine(sqlite_url)


@pytest.fixture
def live_bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    """The whole bridge on the embedded default (SQLite, simulators in process), per test."""
    with serve_bridge(database_url=f"sqlite:///{tmp_path / 'bridge.db'}") as live:
        yield live


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what importing and collecting built (the libraries, every test module), as
    `bridge serve` freezes a worker's start-up objects, so no later collection walks them."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """No cyclic collection while a test's body runs: each test builds apps whose garbage is
    cyclic, and a full collection of it stopped every thread for up to 0.8 s, long enough for
    an in-process upstream behind a proxy to miss the short timeout the network tests use.
    Collections run between tests instead, as often as before."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()
