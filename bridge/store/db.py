"""Engines and migrations. SQLite by default, PostgreSQL (psycopg 3) in production.

Every engine carries one guard for text (README, "Input handling"): PostgreSQL refuses NUL in
text and no UTF-8 driver encodes an unpaired surrogate, while SQLite stores both. So before any
statement runs, a text parameter holding either is refused with `UnstorableText` (a 4xx at the
doors), on both databases alike, instead of a driver error (a 500) on one of them. The doors
refuse such input first; this is the last line, for a place they missed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

from bridge.domain.errors import UnstorableText
from bridge.store.sqlite_writer import (
    WriterLock,
    after_write,
    before_write,
    write_failed,
    writer_connection,
)

MIGRATIONS = Path(__file__).parent / "migrations"
# What no database stores as text: NUL (PostgreSQL) and unpaired surrogates (UTF-8).
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """`text` with what no database stores replaced by U+FFFD (for logs of what happened)."""
    return UNSTORABLE.sub(REPLACEMENT, text)


def is_storable(text: str) -> bool:
    if text.isascii():  # the common case, without a regex
        return "\x00" not in text
    return UNSTORABLE.search(text) is None


def make_engine(url: str) -> Engine:
    """One engine per process. SQLite gets WAL and a busy timeout so threads can share it."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"timeout": 30, "check_same_thread": False}
        if database and database != ":memory:":
            # one writer at a time, queued (bridge.store.sqlite_writer)
            lock = WriterLock(Path(database).with_name(Path(database).name + ".writer"))
            connect_args["factory"] = writer_connection(lock)
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", before_write)
        event.listen(engine, "after_cursor_execute", after_write)
        event.listen(engine, "handle_error", write_failed)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=10)
        ping_when_idle(engine)
    event.listen(engine, "before_cursor_execute", refuse_unstorable_text)
    return engine


# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_BEFORE_PING = 1.0


def ping_when_idle(engine: Engine, idle: float = IDLE_BEFORE_PING) -> None:
    """Hand out no connection the server has dropped, without a round trip per checkout.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: two extra round trips per transfer.
    A connection in steady use has just proved itself, so only one that sat in the pool for
    longer than `idle` seconds (where a restarted server or a closed idle connection shows) is
    pinged; a failed ping discards it and the pool opens a new one (`DisconnectionError`)."""

    def checkin(_dbapi: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned <= idle:
            return  # new, or just used
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection did not answer: {exc}") from exc

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


_RETURNED = "bridge.returned_at"


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a write that is one statement: a transaction by itself, committed (as
    durably as any commit) when the statement returns. On PostgreSQL one round trip instead of
    three (BEGIN, the statement, COMMIT); on SQLite one call into SQLite instead of two, so the
    writer lock (`bridge.store.sqlite_writer`) is held for the statement alone.

    PostgreSQL goes through SQLAlchemy's AUTOCOMMIT isolation level. SQLite's resets that level
    with a PRAGMA on every checkin, so there pysqlite's own switch is flipped for the block and
    back (`isolation_level` None: no implicit BEGIN); what SQLAlchemy then commits or rolls back
    on leaving is nothing."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection
            return
        dbapi = connection.connection.dbapi_connection
        if engine.dialect.name != "sqlite" or dbapi is None or dbapi.in_transaction:
            with connection.begin():
                yield connection
            return
        before, dbapi.isolation_level = dbapi.isolation_level, None
        try:
            yield connection
        finally:
            dbapi.isolation_level = before


def refuse_unstorable_text(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    """The engine guard: no text parameter with NUL or an unpaired surrogate reaches a driver."""
    for row in parameters if executemany else (parameters,):
        values = row.values() if isinstance(row, Mapping) else row or ()
        for value in values:
            if isinstance(value, str) and not is_storable(value):
                raise UnstorableText(
                    "text with a NUL character or an unpaired surrogate cannot be stored"
                )


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL loses no committed transaction when the process dies (only on power loss
    # or an OS crash), and spares an fsync per commit. Production runs on PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the latest revision (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def migration_state(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision, head revision): equal when the schema is up to date."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head
