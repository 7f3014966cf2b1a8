"""Audit tests write to real, migrated databases: SQLite per test, and PostgreSQL (one database
per session, shared) for the tests marked `postgres`. The log is append-only, so no test can
clean up after itself: each one tells its rows apart by a marker of its own (`tag`)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bridge.store.audit import AuditLog
from bridge.store.db import make_engine, migrate


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file at the latest revision, migrated once and copied for each test."""
    path = tmp_path_factory.mktemp("audit-template") / "bridge.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
    return path


@pytest.fixture
def engine(migrated_sqlite: Path, sqlite_url: str) -> Iterator[Engine]:
    shutil.copyfile(migrated_sqlite, sqlite_url.removeprefix("sqlite:///"))
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """The test runs once on SQLite and once on PostgreSQL."""
    name = "engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(name)
    return found


@pytest.fixture
def audit(any_engine: Engine) -> Iterator[AuditLog]:
    log = AuditLog(any_engine)
    yield log
    log.close()


@pytest.fixture
def tag() -> str:
    """A client id no other test uses: this test's rows, in a shared database."""
    return f"test-{uuid.uuid4().hex[:12]}"
