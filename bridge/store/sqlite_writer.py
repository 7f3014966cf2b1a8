"""One SQLite writer at a time, queued instead of polling.

SQLite lets one connection write at a time. A second writer gets SQLITE_BUSY, and the busy
handler behind `PRAGMA busy_timeout` sleeps and tries again, sleeping 1, 2, 5, 10, ... up to
100 ms between tries: it never hears that the lock was freed. Under eight concurrent transfers
on two worker processes that polling, not the work, set the slowest requests (a p99 of 100 to
230 ms beside a p50 of 15, bench/banking.py).

So a write transaction on an SQLite file takes this lock first: a thread lock within the
process and an exclusive `flock` on `<database>.writer` between processes, both of which wake
the next waiter the moment the holder lets go. It is taken just before the transaction's
first INSERT, UPDATE, DELETE or REPLACE (where pysqlite itself begins the transaction, so the
span is the span of SQLite's own write lock) and let go once that transaction has committed or
rolled back (a connection given back to the pool is rolled back) or its connection closed; a
statement run on its own in autocommit (`bridge.store.db.one_statement`) lets go as it returns.
Reads (WAL) take no lock. A thread that waits longer than the busy timeout gets SQLite's own
"database is locked", as before. SQLite's busy timeout stays the guard against writers outside
the bridge's processes (the CLI takes the lock too; another program on the file does not).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterLock:
    """Exclusive between the threads of this process (an RLock: a thread that already writes
    on one connection and opens another gets on as before, to SQLite's own lock) and between
    processes (`flock`, opened per process: a descriptor inherited across a fork would share
    the parent's lock instead of excluding it)."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self._path = path
        self._timeout = timeout
        self._threads = threading.RLock()
        self._depth = 0  # how many holds this process has, across its threads' re-entries
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> None:
        if not self._threads.acquire(timeout=self._timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self._depth == 0:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


def writer_connection(lock: WriterLock) -> type[sqlite3.Connection]:
    """The DBAPI connection class (`sqlite3.connect(factory=...)`) of an engine whose writers
    take `lock`: a write statement takes it first (`before_write`), and the transaction's end
    lets it go after SQLite has committed or rolled back (SQLAlchemy's own `commit` event
    comes before the commit, too early)."""

    class WriterConnection(sqlite3.Connection):
        holds_writer = False

        def take_writer(self) -> None:
            if not self.holds_writer:
                lock.acquire()
                self.holds_writer = True

        def statement_done(self) -> None:
            """After a statement, done or failed: one that ran outside a transaction
            (autocommit, `bridge.store.db.one_statement`) has committed, or failed, already."""
            if not self.in_transaction:
                self._let_go()

        def commit(self) -> None:
            self._ending(super().commit)

        def rollback(self) -> None:
            self._ending(super().rollback)

        def close(self) -> None:
            self._ending(super().close)

        def _ending(self, end: Callable[[], None]) -> None:
            """End the transaction (or the connection) the way `end` does, then let the
            writer lock go, whether `end` succeeded or not."""
            try:
                end()
            finally:
                self._let_go()

        def _let_go(self) -> None:
            if self.holds_writer:
                self.holds_writer = False
                lock.release()

    return WriterConnection


def before_write(
    _connection: Any,
    cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    """The engine's `before_cursor_execute` listener: a write statement takes the writer lock
    of its connection's engine (a no-op when the connection already holds it)."""
    if statement.lstrip()[:7].upper().startswith(_WRITES):
        take = getattr(cursor.connection, "take_writer", None)
        if take is not None:
            take()


def after_write(connection: Any, cursor: Any, *_: Any) -> None:
    """The engine's `after_cursor_execute` listener (`statement_done`)."""
    _statement_done(cursor.connection)


def write_failed(context: Any) -> None:
    """The engine's `handle_error` listener (`statement_done`)."""
    connection = context.connection
    if connection is not None and not connection.invalidated:
        _statement_done(connection.connection.dbapi_connection)


def _statement_done(dbapi_connection: Any) -> None:
    done = getattr(dbapi_connection, "statement_done", None)
    if done is not None:
        done()
