"""Alembic migrations bring SQLite and PostgreSQL to the same schema; readiness reports it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from werkzeug.test import Client

from bridge.app import create_app
from bridge.settings import Settings
from bridge.store.db import make_engine, migrate, migration_state
from bridge.store.tables import metadata


def _not_the_schedulers(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
    """APScheduler makes and owns its job table (the PostgreSQL database of a test session may
    hold it, from tests that ran a scheduler); the migrations never manage it."""
    table = obj.table.name if type_ == "index" else name
    return table != "apscheduler_jobs"


def _assert_migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate(engine)
        migrate(engine)  # a second run changes nothing
        current, head = migration_state(engine)
        assert current == head is not None
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        with engine.connect() as connection:
            opts = {"compare_type": True, "include_object": _not_the_schedulers}
            context = MigrationContext.configure(connection, opts=opts)
            drift = compare_metadata(context, metadata)
        assert drift == [], f"the migrations and bridge/store/tables.py disagree: {drift}"
    finally:
        engine.dispose()


def test_migrations_reach_head_on_sqlite(sqlite_url: str) -> None:
    _assert_migrated(sqlite_url)


@pytest.mark.postgres
def test_migrations_reach_head_on_postgresql(postgres_url: str) -> None:
    _assert_migrated(postgres_url)


def test_readyz_is_503_until_the_database_is_migrated(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, simulators=False)
    bridge = create_app(settings, run_migrations=False)
    response = Client(bridge).get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.data)["checks"]["migrations"].startswith("at None")
    migrate(bridge.engine)
    response = Client(bridge).get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.data)["status"] == "ready"


def test_healthz_answers_without_the_database(sqlite_url: str) -> None:
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False), run_migrations=False)
    response = Client(bridge).get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.data) == {"status": "ok"}
