"""Outbox claims and scheduler leadership on SQLite and on the real PostgreSQL: concurrent
workers never claim the same row, and exactly one process holds the schedules."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, text

from bridge.store.db import make_engine, migrate
from bridge.store.tables import outbox as outbox_table
from bridge.sync import outbox
from bridge.sync.leader import Leadership
from bridge.sync.outbox import Outbox


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(delete(outbox_table))
    yield engine
    engine.dispose()


def _queue(engine: Engine, count: int) -> None:
    with engine.begin() as connection:
        for n in range(count):
            outbox.add(connection, topic="payroll", key=f"K{n:04d}", payload="{}")


def test_concurrent_workers_claim_every_row_exactly_once(engine: Engine) -> None:
    _queue(engine, 200)
    box = Outbox(engine)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while rows := box.claim("payroll", 7, lease=timedelta(minutes=5), worker=name):
            with lock:
                claimed.extend(row.id for row in rows)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(claimed) == 200
    assert max(Counter(claimed).values()) == 1


def test_rows_of_a_dead_worker_are_claimed_again_after_the_lease(engine: Engine) -> None:
    _queue(engine, 3)
    box = Outbox(engine)
    first = box.claim("payroll", 10, lease=timedelta(seconds=0.3), worker="dies")

    assert box.claim("payroll", 10, lease=timedelta(minutes=5), worker="other") == []
    time.sleep(0.4)
    again = box.claim("payroll", 10, lease=timedelta(minutes=5), worker="other")

    assert [row.id for row in again] == [row.id for row in first]


def test_a_failed_row_waits_for_its_backoff_then_dies_after_the_last_attempt(
    engine: Engine,
) -> None:
    _queue(engine, 1)
    box = Outbox(engine)
    (row,) = box.claim("payroll", 1, lease=timedelta(minutes=5), worker="w")

    assert box.failed(row, "HTTP 503", permanent=False) == "pending"
    assert box.claim("payroll", 1, lease=timedelta(minutes=5), worker="w") == []  # backing off
    exhausted = row.__class__(row.id, row.topic, row.key, row.payload, 7, None)
    assert box.failed(exhausted, "HTTP 503", permanent=False) == "dead"
    assert box.depth() == {"payroll": {"dead": 1}}


def test_exactly_one_process_leads_and_another_takes_over_when_it_stops(engine: Engine) -> None:
    events: list[str] = []
    first = Leadership(
        engine, lambda: events.append("a leads"), lambda: events.append("a stops"), poll=0.1
    )
    second = Leadership(
        engine, lambda: events.append("b leads"), lambda: events.append("b stops"), poll=0.1
    )
    first.start()
    _wait(lambda: first.leading)
    second.start()
    time.sleep(0.5)
    assert (first.leading, second.leading) == (True, False)

    first.stop()
    _wait(lambda: second.leading)
    second.stop()

    assert events == ["a leads", "a stops", "b leads", "b stops"]


def _wait(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)
    assert condition(), "timed out"  # type: ignore[operator]


@pytest.mark.postgres
def test_the_postgresql_lock_is_freed_when_the_holders_connection_dies(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    leader = Leadership(engine, lambda: None, lambda: None, poll=0.1)
    follower = Leadership(engine, lambda: None, lambda: None, poll=0.1)
    leader.start()
    _wait(lambda: leader.leading)
    follower.start()
    with engine.connect() as connection:  # the leader's node "dies": its session is killed
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :key"
            ),
            {"key": 0x42524447},
        )
        connection.commit()
    _wait(lambda: follower.leading)
    follower.stop()
    leader.stop()
    engine.dispose()
