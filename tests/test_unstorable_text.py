"""The store's guard: text no database stores (NUL, an unpaired surrogate) never reaches a driver.
PostgreSQL would refuse it with a driver error and SQLite would store it; both refuse it alike
with `UnstorableText`, and the connection stays usable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, insert, select, text

from bridge.domain.errors import InvalidInput, UnstorableText
from bridge.store.db import is_storable, make_engine, storable
from tests.hostile import HOSTILE_STRINGS

notes = Table("guard_notes", MetaData(), Column("body", String(20000)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guard.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(url)
    notes.create(made)
    try:
        yield made
    finally:
        notes.drop(made)  # the PostgreSQL database is the session's, shared
        made.dispose()


@pytest.mark.parametrize("name", ["nul", "nul_only", "nul_trailing", "lone_high_surrogate"])
def test_a_statement_with_unstorable_text_is_refused_before_the_driver(
    engine: Engine, name: str
) -> None:
    with engine.connect() as connection:
        with pytest.raises(UnstorableText):
            connection.execute(select(text(":value")), {"value": HOSTILE_STRINGS[name]})
        assert connection.execute(select(text("'still usable'"))).scalar_one() == "still usable"


def test_one_unstorable_row_refuses_a_many_row_insert(engine: Engine) -> None:
    rows = [{"body": "fine"}, {"body": HOSTILE_STRINGS["nul"]}]

    with pytest.raises(UnstorableText), engine.begin() as connection:
        connection.execute(insert(notes), rows)

    with engine.connect() as connection:
        assert connection.execute(select(notes)).all() == []


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in sorted(HOSTILE_STRINGS)
        if n not in ("nul", "nul_only", "nul_trailing", "lone_high_surrogate", "lone_low_surrogate")
    ],
)
def test_every_other_hostile_text_is_stored_as_it_was_sent(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        connection.execute(insert(notes), {"body": HOSTILE_STRINGS[name]})
        stored = connection.execute(select(notes.c.body)).scalars().all()

    assert stored == [HOSTILE_STRINGS[name]]


def test_the_guard_is_an_input_error_and_says_what_is_stored_instead() -> None:
    assert issubclass(UnstorableText, InvalidInput)
    assert storable("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert not is_storable("é\udfff")
    assert is_storable("Nguyễn \u202e ١٢٣")
