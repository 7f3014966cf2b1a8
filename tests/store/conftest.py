"""The stores over a migrated database: SQLite, and PostgreSQL for the tests that ask for
`any_engine` (where a store writes SQL of each dialect). PostgreSQL's database is shared by
the test session, so the tables these stores write are emptied first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete

from bridge.store.db import make_engine, migrate
from bridge.store.tables import classifications, delivery_events, employees, outbox, shipments
from tests.common.clock import Clock

# Children first: delivery events refer to their shipments.
TABLES = (delivery_events, shipments, classifications, employees, outbox)


def _migrated(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        for table in TABLES:
            connection.execute(delete(table))
    yield engine
    engine.dispose()


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    yield from _migrated(sqlite_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    yield from _migrated(url)


@pytest.fixture
def clock() -> Clock:
    return Clock()
