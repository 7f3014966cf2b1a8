"""A one-statement write compiled once and run on the driver's own connection.

The transfer path writes twice per request (claim, finish), each a single statement committed
on its own (`bridge.store.db.one_statement`). Through `Connection.execute` each write also pays
SQLAlchemy's per-call pipeline: the compiled-cache lookup, the execution context, three event
listeners, result set-up, and the isolation-level dance around autocommit. Measured on this
machine (one thread, 2,000 rows): an INSERT into `transfers` took 0.19 ms on SQLite through
`Connection.execute` against 0.04 ms on the sqlite3 connection, and 0.66 ms against 0.35 ms on
PostgreSQL. On SQLite the difference is also time spent holding the writer lock
(`bridge.store.sqlite_writer`), which every other writer of the file waits for.

`PreparedWrite` keeps what SQLAlchemy decides and drops only the per-call work: the statement
is compiled once by the engine's dialect, and each value goes through the bind processor of
its column's type (how a `DateTime` or a `Date` is stored stays SQLAlchemy's decision), then
straight to the DBAPI connection, checked out of the engine's pool as usual (so the idle ping
still runs on PostgreSQL). What the engine's listeners do for every statement is done here
too: the text guard (`refuse_unstorable_text`) and, on SQLite, the writer lock. A driver error
comes out as SQLAlchemy's own (`IntegrityError` and so on), and a lost connection is
invalidated in the pool, as `Connection.execute` would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

from bridge.store.db import refuse_unstorable_text


class PreparedWrite:
    """`statement` (an INSERT, UPDATE or DELETE with bound parameters named by `keys`) for
    `engine`; `run(values)` commits it on its own and answers the rows it touched."""

    def __init__(self, engine: Engine, statement: UpdateBase, keys: tuple[str, ...]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self._engine = engine
        self._sql = str(compiled)
        self._dbapi_error = dialect.loaded_dbapi.Error
        self._sqlite = dialect.name == "sqlite"
        # (parameter name, bind processor or None), in the order the DBAPI wants them
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        assert names is not None
        self._names = tuple(names)
        missing = set(self._names) - set(keys)
        if missing:
            raise ValueError(f"parameters not named in keys: {sorted(missing)}")
        self._processors: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
            (name, compiled.binds[name].type.bind_processor(dialect)) for name in self._names
        )
        self._positional = compiled.positional

    def run(self, values: Mapping[str, Any]) -> int:
        converted = {
            name: value if processor is None else processor(value)
            for name, processor in self._processors
            for value in (values[name],)
        }
        refuse_unstorable_text(None, None, self._sql, converted, None, False)
        parameters: Any = (
            tuple(converted[name] for name in self._names) if self._positional else converted
        )
        pooled = self._engine.raw_connection()
        try:
            dbapi = pooled.driver_connection
            if self._sqlite:
                return self._run_sqlite(dbapi, parameters)
            return self._run_autocommit(dbapi, parameters)
        except self._dbapi_error as exc:
            if self._engine.dialect.is_disconnect(exc, pooled.dbapi_connection, None):
                pooled.invalidate(exc)
            raise DBAPIError.instance(
                self._sql, parameters, exc, self._dbapi_error, dialect=self._engine.dialect
            ) from exc
        finally:
            pooled.close()  # back to the pool (which rolls back nothing: all was committed)

    def _run_sqlite(self, dbapi: Any, parameters: Any) -> int:
        """pysqlite with no implicit BEGIN: the statement commits as it returns; the writer
        lock is held for that span alone (`bridge.store.sqlite_writer`)."""
        before, dbapi.isolation_level = dbapi.isolation_level, None
        take = getattr(dbapi, "take_writer", None)
        try:
            if take is not None:
                take()
            rowcount: int = dbapi.execute(self._sql, parameters).rowcount
            return rowcount
        finally:
            done = getattr(dbapi, "statement_done", None)
            if done is not None:
                done()
            dbapi.isolation_level = before

    def _run_autocommit(self, dbapi: Any, parameters: Any) -> int:
        """psycopg in autocommit: one round trip, committed when the server answers."""
        dbapi.autocommit = True
        try:
            with dbapi.cursor() as cursor:
                cursor.execute(self._sql, parameters)
                rowcount: int = cursor.rowcount
            return rowcount
        finally:
            dbapi.autocommit = False
