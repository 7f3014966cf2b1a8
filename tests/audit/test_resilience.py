"""The audit writer never stops: unstorable text is stored in a safe form, a row the database
refuses does not hold back its neighbours, an outage is waited out with the rows kept, and a
graceful stop writes what is buffered. Every refused insert moves
`bridge_audit_write_failures_total`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, event

from bridge.observability import metrics
from bridge.store.audit import AuditLog
from bridge.store.db import make_engine, migrate
from tests.common.audit import entry


def _resources(audit: AuditLog, tag: str) -> list[str | None]:
    return [e.resource_id for e in reversed(audit.query(client_id=tag))]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _metered(engine: Engine, **options: Any) -> AuditLog:
    """A log reporting to the bridge's metrics, as `bridge.app` builds it."""
    return AuditLog(
        engine,
        on_write_failure=metrics.AUDIT_WRITE_FAILURES.inc,
        on_dropped=metrics.audit_rows_dropped,
        **options,
    )


@contextmanager
def refusing(engine: Engine, refused: Callable[[str], bool]) -> Iterator[None]:
    """The database refuses any statement with a text parameter `refused` picks (as a driver
    refuses a value it cannot take)."""

    def check(*args: Any) -> None:
        parameters, executemany = args[3], args[5]
        for row in parameters if executemany else (parameters,):
            values = row.values() if isinstance(row, dict) else row
            if any(isinstance(v, str) and refused(v) for v in values):
                raise ValueError("refused by the test's database")

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", check)


def _wait(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_nul_and_unpaired_surrogates_are_stored_as_replacement_characters(
    audit: AuditLog, tag: str
) -> None:
    audit.record(entry(tag, resource_id="a\x00b", detail="x\ud800y", operation="GET /a\x00"))
    audit.flush()

    (stored,) = audit.query(client_id=tag)
    assert (stored.resource_id, stored.detail, stored.operation) == ("a�b", "x�y", "GET /a�")


def test_a_row_refused_in_the_middle_of_a_batch_does_not_lose_its_neighbours(
    any_engine: Engine, tag: str
) -> None:
    audit = _metered(any_engine, flush_interval=3600)
    failures = _sample("bridge_audit_write_failures_total")
    dropped = _sample("bridge_audit_rows_dropped_total", reason="unwritable")
    for name in ("R0", "R1", "POISON", "R3", "R4"):
        audit.record(entry(tag, resource_id=name))

    with refusing(any_engine, lambda text: "POISON" in text):
        audit.flush()

    assert audit.pending == 0
    assert _resources(audit, tag) == ["R0", "R1", "R3", "R4"]
    # The batch, the row alone and the row in safe form.
    assert _sample("bridge_audit_write_failures_total") == failures + 3
    assert _sample("bridge_audit_rows_dropped_total", reason="unwritable") == dropped + 1
    audit.close()


def test_a_row_refused_as_it_is_is_written_in_safe_form(any_engine: Engine, tag: str) -> None:
    audit = AuditLog(any_engine, flush_interval=3600)
    audit.record(entry(tag, resource_id="R0"))
    audit.record(entry(tag, resource_id="\u202eevil", detail="Zoë"))
    audit.record(entry(tag, resource_id="R2"))

    with refusing(any_engine, lambda text: not text.isascii()):
        audit.flush()

    rows = list(reversed(audit.query(client_id=tag)))
    assert [(row.resource_id, row.detail) for row in rows] == [
        ("R0", None),
        ("\\u202eevil", "Zo\\xeb"),
        ("R2", None),
    ]
    audit.close()


def test_a_database_refusing_every_row_keeps_them_all(any_engine: Engine, tag: str) -> None:
    """Refused one by one too: the database, not the rows, is at fault; nothing is dropped."""
    audit = AuditLog(any_engine, flush_interval=3600)
    for n in range(3):
        audit.record(entry(tag, resource_id=f"R{n}"))

    with refusing(any_engine, lambda text: text == tag):
        audit.flush()
    assert audit.pending == 3

    audit.flush()
    assert _resources(audit, tag) == ["R0", "R1", "R2"]
    audit.close()


def test_rows_buffered_at_close_are_written(any_engine: Engine, tag: str) -> None:
    audit = AuditLog(any_engine, flush_interval=3600, batch_size=1000)
    for n in range(5):
        audit.record(entry(tag, resource_id=f"R{n}"))
    assert audit.pending == 5

    audit.close()

    assert _resources(audit, tag) == [f"R{n}" for n in range(5)]


def test_rows_the_database_never_took_are_counted_at_close(sqlite_url: str, tag: str) -> None:
    engine = make_engine(sqlite_url)  # not migrated: every write fails
    audit = _metered(engine, flush_interval=3600)
    stopped = _sample("bridge_audit_rows_dropped_total", reason="stopped")
    for n in range(2):
        audit.record(entry(tag, resource_id=f"R{n}"))

    audit.close()

    assert _sample("bridge_audit_rows_dropped_total", reason="stopped") == stopped + 2
    engine.dispose()


@pytest.mark.postgres
def test_the_writer_survives_a_postgresql_outage_and_writes_the_rows_afterwards(
    postgres_url: str, pg_engine: Engine, tag: str
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    admin = psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    engine = make_engine(postgres_url)
    failures = threading.Semaphore(0)
    audit = AuditLog(engine, flush_interval=0.05, on_write_failure=failures.release)
    audit.record(entry(tag, resource_id="before"))
    assert _wait(lambda: _resources(audit, tag) == ["before"])

    admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    try:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [database],
        )
        for n in range(3):
            audit.record(entry(tag, resource_id=f"during{n}"))
        # Refused, then refused again on a retry: the writer is alive and waiting it out.
        assert failures.acquire(timeout=30)
        assert failures.acquire(timeout=30)
        assert _wait(lambda: audit.pending == 3)
    finally:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        admin.close()

    audit.record(entry(tag, resource_id="after"))
    written = ["before", "during0", "during1", "during2", "after"]
    assert _wait(lambda: _resources(audit, tag) == written)
    assert audit.pending == 0
    audit.close()
    engine.dispose()


def test_a_migrated_database_after_an_outage_takes_the_kept_rows(sqlite_url: str, tag: str) -> None:
    """SQLite's outage: no table yet. The writer thread keeps the rows and writes them later."""
    engine = make_engine(sqlite_url)
    failures = threading.Semaphore(0)
    audit = AuditLog(engine, flush_interval=0.05, on_write_failure=failures.release)
    audit.record(entry(tag, resource_id="R0"))
    assert failures.acquire(timeout=30)

    migrate(engine)

    assert _wait(lambda: _resources(audit, tag) == ["R0"])
    assert audit.pending == 0
    audit.close()
    engine.dispose()
