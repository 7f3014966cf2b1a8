"""SQLite writers take turns on the writer lock instead of polling SQLite's busy handler
(bridge.store.sqlite_writer). With SQLite's busy timeout set to zero, a second writer that
reached SQLite while another held its write lock would fail at once with "database is locked":
these tests write from many threads and two processes with that timeout and expect no error."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from bridge.store.db import make_engine, migrate, one_statement
from bridge.store.sqlite_writer import WriterLock
from bridge.store.tables import employees

THREADS = 8
ROWS = 40


def impatient_engine(url: str) -> Engine:
    """The bridge's engine, but SQLite itself waits for no lock: any writer that meets
    another inside SQLite fails instead of waiting."""
    engine = make_engine(url)
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=0"))
    return engine


def employee_row(worker: str, n: int) -> dict[str, Any]:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    return {"employee_no": f"{worker}-{n}", "record": "{}", "created_at": now, "updated_at": now}


def write_rows(url: str, worker: str) -> int:
    """ROWS rows, each in its own transaction, from THREADS threads; how many were written."""
    engine = impatient_engine(url)
    try:

        def one_thread(t: int) -> None:
            for n in range(ROWS):
                with engine.begin() as connection:
                    connection.execute(insert(employees), employee_row(f"{worker}{t}", n))
                    # a read inside the transaction, as the stores do, holds it open longer
                    connection.execute(select(func.count()).select_from(employees)).scalar()

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(one_thread, range(THREADS)))
        return THREADS * ROWS
    finally:
        engine.dispose()


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(employees)).scalar_one())
    finally:
        engine.dispose()


def test_threads_of_one_process_write_in_turn(url: str) -> None:
    assert write_rows(url, "a") == count(url) == THREADS * ROWS


def test_two_processes_write_in_turn(url: str) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        written = pool.starmap(write_rows, [(url, "p"), (url, "q")])
    assert sum(written) == count(url) == 2 * THREADS * ROWS


def test_a_failed_write_lets_the_next_writer_in(url: str) -> None:
    engine = impatient_engine(url)
    try:
        row = employee_row("dup", 0)
        with engine.begin() as connection:
            connection.execute(insert(employees), row)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert(employees), row)  # rolled back
        done = threading.Event()

        def other_thread() -> None:
            with engine.begin() as connection:
                connection.execute(insert(employees), employee_row("other", 0))
            done.set()

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(timeout=10)
        assert done.is_set()
    finally:
        engine.dispose()


def test_a_connection_given_back_unfinished_lets_the_next_writer_in(url: str) -> None:
    engine = impatient_engine(url)
    try:
        connection = engine.connect()
        connection.execute(insert(employees), employee_row("left", 0))
        connection.close()  # neither commit nor rollback: the pool rolls it back
        result: list[int] = []
        worker = threading.Thread(target=lambda: result.append(write_rows_once(engine, "next")))
        worker.start()
        worker.join(timeout=10)
        assert result == [1]
    finally:
        engine.dispose()


def write_rows_once(engine: Engine, worker: str) -> int:
    with engine.begin() as connection:
        connection.execute(insert(employees), employee_row(worker, 0))
    return 1


def test_reads_take_no_lock(url: str) -> None:
    engine = impatient_engine(url)
    try:
        with engine.begin() as writer:
            writer.execute(insert(employees), employee_row("w", 0))
            # another thread reads (WAL) while this transaction holds the writer lock
            seen: list[int] = []
            reader = threading.Thread(
                target=lambda: seen.append(
                    engine.connect().execute(text("SELECT count(*) FROM employees")).scalar_one()
                )
            )
            reader.start()
            reader.join(timeout=10)
            assert seen == [0]
    finally:
        engine.dispose()


def test_a_thread_waiting_longer_than_the_timeout_is_told_the_database_is_locked(
    tmp_path: Path,
) -> None:
    import sqlite3

    lock = WriterLock(tmp_path / "db.writer", timeout=0.1)
    lock.acquire()
    failed: list[BaseException] = []

    def other() -> None:
        try:
            lock.acquire()
        except sqlite3.OperationalError as exc:
            failed.append(exc)

    worker = threading.Thread(target=other)
    worker.start()
    worker.join(timeout=10)
    lock.release()
    assert [str(exc) for exc in failed] == ["database is locked"]


def test_a_one_statement_write_lets_go_as_it_returns(url: str) -> None:
    """`one_statement` runs the write in autocommit: the lock is free again before the block
    ends, and the row is committed (another connection reads it)."""
    engine = impatient_engine(url)
    try:
        with one_statement(engine) as connection:
            connection.execute(insert(employees), employee_row("alone", 0))
            result: list[int] = []
            worker = threading.Thread(
                target=lambda: result.append(write_rows_once(engine, "meanwhile"))
            )
            worker.start()
            worker.join(timeout=10)
            assert result == [1]
        assert count(url) == 2
    finally:
        engine.dispose()
