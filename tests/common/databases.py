"""A migrated database engine for a test, disposed of afterwards."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine

from bridge.store.db import make_engine, migrate


def migrated_engine(url: str) -> Iterator[Engine]:
    """For a fixture to `yield from`: the engine of `url` with the schema migrated to head."""
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
