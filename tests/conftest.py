"""Shared fixtures. Unit tests never reach the network: only loopback servers a test starts."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.mapping import Mappings

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
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server here"
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
