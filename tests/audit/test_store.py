"""`AuditLog`: buffered writes that lose nothing, newest-first reads with filters and keyset
pages, masking, and a table the database itself keeps append-only."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from bridge.store.audit import AuditLog
from bridge.store.audit_tables import audit_log
from bridge.store.db import make_engine, migrate
from tests.common.audit import entry

IBAN = "DE89370400440532013000"


def _count(engine: Engine, client_id: str) -> int:
    with engine.connect() as connection:
        found: int = connection.execute(
            select(func.count()).where(audit_log.c.client_id == client_id)
        ).scalar_one()
    return found


def test_recorded_entries_are_read_back_newest_first(audit: AuditLog, tag: str) -> None:
    first = entry(tag, operation="POST /api/v1/transfers", resource_id="TX-1")
    second = entry(tag, operation="GET /api/v1/transfers/<id>", resource_id="TX-1")
    audit.record(first)
    audit.record(second)
    audit.flush()

    found = audit.query(client_id=tag)

    assert [e.operation for e in found] == [second.operation, first.operation]
    assert found[0].id is not None
    assert found[1].id is not None
    assert found[0].id > found[1].id
    assert found == [replace(second, id=found[0].id), replace(first, id=found[1].id)]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET outcome = 'ok' WHERE client_id = :tag",
        "DELETE FROM audit_log WHERE client_id = :tag",
    ],
)
def test_the_database_refuses_to_change_or_delete_entries(
    audit: AuditLog, any_engine: Engine, tag: str, statement: str
) -> None:
    audit.record(entry(tag, outcome="denied", status="403"))
    audit.flush()

    with pytest.raises(DBAPIError, match="append-only"), any_engine.begin() as connection:
        connection.execute(text(statement), {"tag": tag})

    assert [e.outcome for e in audit.query(client_id=tag)] == ["denied"]


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_log(pg_engine: Engine, tag: str) -> None:
    audit = AuditLog(pg_engine)
    audit.record(entry(tag))
    audit.close()

    with pytest.raises(DBAPIError, match="append-only"), pg_engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log"))

    assert _count(pg_engine, tag) == 1


def test_query_filters_by_time_client_outcome_and_interface(audit: AuditLog, tag: str) -> None:
    now = datetime.now(UTC)
    other = f"{tag}-other"
    audit.record(entry(tag, at=now - timedelta(hours=2), operation="old"))
    audit.record(entry(tag, at=now - timedelta(minutes=5), operation="denied", outcome="denied"))
    audit.record(entry(tag, at=now, operation="soap", interface="soap", status="200"))
    audit.record(entry(other, at=now, operation="someone else's"))
    audit.flush()

    def operations(**filters: object) -> list[str]:
        return [e.operation for e in audit.query(**filters)]  # type: ignore[arg-type]

    assert operations(client_id=tag) == ["soap", "denied", "old"]
    assert operations(client_id=tag, since=now - timedelta(hours=1)) == ["soap", "denied"]
    assert operations(client_id=tag, until=now - timedelta(minutes=1)) == ["denied", "old"]
    assert operations(client_id=tag, outcome="denied") == ["denied"]
    assert operations(client_id=tag, interface="soap") == ["soap"]
    assert operations(client_id=other) == ["someone else's"]


def test_time_bounds_in_another_timezone_mean_the_same_instant(audit: AuditLog, tag: str) -> None:
    at = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    audit.record(entry(tag, at=at))
    audit.flush()
    plus_two = timezone(timedelta(hours=2))

    assert len(audit.query(client_id=tag, since=at.astimezone(plus_two))) == 1
    assert audit.query(client_id=tag, until=at.astimezone(plus_two)) == []


def test_keyset_pages_neither_skip_nor_repeat_while_entries_arrive(
    audit: AuditLog, tag: str
) -> None:
    for n in range(7):
        audit.record(entry(tag, resource_id=f"R{n}"))
    audit.flush()

    first = audit.query(client_id=tag, limit=3)
    audit.record(entry(tag, resource_id="newer"))
    audit.flush()
    second = audit.query(client_id=tag, limit=3, before_id=first[-1].id)
    third = audit.query(client_id=tag, limit=3, before_id=second[-1].id)

    pages = [e.resource_id for e in first + second + third]
    assert pages == [f"R{n}" for n in range(6, -1, -1)]


def test_ibans_and_secrets_are_masked_before_they_are_stored(
    audit: AuditLog, any_engine: Engine, tag: str
) -> None:
    audit.record(
        entry(
            tag,
            resource_id=f"{IBAN}/transactions",
            detail=f"debtor {IBAN[:4]} {IBAN[4:8]} {IBAN[8:12]} {IBAN[12:16]} {IBAN[16:20]} "
            f"{IBAN[20:]} password=hunter2 token: abc.def",
        )
    )
    audit.flush()

    with any_engine.connect() as connection:
        stored = connection.execute(
            select(audit_log.c.resource_id, audit_log.c.detail).where(audit_log.c.client_id == tag)
        ).one()
    assert stored.resource_id == "DE89…3000/transactions"
    assert "DE89…3000" in stored.detail
    for secret in ("hunter2", "abc.def", "0532", "3704"):
        assert secret not in stored.detail


def test_values_longer_than_their_column_are_cut_not_refused(audit: AuditLog, tag: str) -> None:
    audit.record(entry(tag, operation="x" * 500, status="s" * 100, detail="d" * 10_000))
    audit.flush()

    (found,) = audit.query(client_id=tag)
    assert len(found.operation) == 120
    assert found.operation.endswith("…")
    assert len(found.status) == 40
    assert found.detail is not None
    assert len(found.detail) <= 1000


def test_many_threads_recording_at_once_lose_no_entry(audit: AuditLog, tag: str) -> None:
    threads, each = 8, 100

    def work(n: int) -> None:
        for i in range(each):
            audit.record(entry(tag, resource_id=f"{n}-{i}"))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    audit.flush()

    found = audit.query(client_id=tag, limit=1000)
    ids = {e.resource_id for e in found}
    assert len(found) == threads * each
    assert ids == {f"{n}-{i}" for n in range(threads) for i in range(each)}


def test_the_writer_thread_writes_without_being_asked(any_engine: Engine, tag: str) -> None:
    audit = AuditLog(any_engine, flush_interval=0.05)
    audit.record(entry(tag))

    written = threading.Event()

    def poll() -> None:
        while _count(any_engine, tag) == 0:
            written.wait(0.02)
        written.set()

    threading.Thread(target=poll, daemon=True).start()
    assert written.wait(timeout=30)
    assert audit.pending == 0
    audit.close()


def test_rows_the_database_refused_are_kept_and_written_later(sqlite_url: str, tag: str) -> None:
    engine = make_engine(sqlite_url)  # not migrated: no audit_log table yet
    audit = AuditLog(engine, max_pending=10)
    for n in range(3):
        audit.record(entry(tag, resource_id=f"R{n}"))
    audit.flush()
    assert audit.pending == 3

    migrate(engine)
    audit.flush()

    assert audit.pending == 0
    assert [e.resource_id for e in audit.query(client_id=tag)] == ["R2", "R1", "R0"]
    audit.close()
    engine.dispose()


def test_the_buffer_is_bounded_and_drops_the_oldest(
    sqlite_url: str, tag: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(sqlite_url)  # not migrated: every write fails
    audit = AuditLog(engine, max_pending=5)
    for n in range(8):
        audit.record(entry(tag, resource_id=f"R{n}"))
    audit.flush()
    assert audit.pending == 5

    migrate(engine)
    audit.flush()

    assert [e.resource_id for e in audit.query(client_id=tag)] == [f"R{n}" for n in (7, 6, 5, 4, 3)]
    assert "3 oldest rows dropped" in caplog.text
    audit.close()
    engine.dispose()


def test_entries_still_buffered_at_interpreter_exit_are_written(sqlite_url: str, tag: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    program = (
        "import datetime\n"
        "from bridge.store.audit import AuditLog, AuditRecord\n"
        "from bridge.store.db import make_engine\n"
        f"log = AuditLog(make_engine({sqlite_url!r}), flush_interval=3600, batch_size=1000)\n"
        "for n in range(5):\n"
        "    log.record(AuditRecord(at=datetime.datetime.now(datetime.UTC), interface='cli',\n"
        f"        operation='exit test', outcome='ok', status='0', client_id={tag!r}))\n"
        "assert log.pending == 5\n"
    )

    subprocess.run([sys.executable, "-c", program], check=True, timeout=60)

    assert _count(engine, tag) == 5
    engine.dispose()


def test_a_record_must_name_a_known_interface_and_outcome() -> None:
    with pytest.raises(ValueError, match="interface"):
        entry("c", interface="ftp")
    with pytest.raises(ValueError, match="outcome"):
        entry("c", outcome="fine")
    with pytest.raises(ValueError, match="timezone"):
        entry("c", at=datetime(2030, 1, 1))
