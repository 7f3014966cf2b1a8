"""The outbox store's one-row hold (a caller delivering while it waits) against the workers'
batch claims: both claim, settle and release a row the same way."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from bridge.store import outbox
from bridge.store.outbox import OutboxStore
from bridge.store.tables import outbox as outbox_table
from tests.common.clock import Clock

TOPIC = "probe"
LEASE = timedelta(minutes=2)


def _queue(engine: Engine, clock: Clock, key: str = "K1") -> None:
    with engine.begin() as connection:
        outbox.add(connection, TOPIC, key, "{}", "cid-1", clock())


def _row(engine: Engine, key: str = "K1") -> Any:
    with engine.connect() as connection:
        return connection.execute(select(outbox_table).where(outbox_table.c.key == key)).one()


def _hold(engine: Engine, clock: Clock, holder: str = "now:a", key: str = "K1") -> bool:
    with engine.begin() as connection:
        return outbox.hold(
            connection, topic=TOPIC, key=key, holder=holder, until=clock() + LEASE, now=clock()
        )


def _settle(engine: Engine, clock: Clock, holder: str = "now:a", **outcome: Any) -> None:
    with engine.begin() as connection:
        outbox.settle_held(connection, topic=TOPIC, key="K1", holder=holder, now=clock(), **outcome)


def test_a_held_row_is_not_claimed_by_a_worker_until_its_hold_runs_out(
    engine: Engine, clock: Clock
) -> None:
    _queue(engine, clock)
    store = OutboxStore(engine, clock=clock)

    assert _hold(engine, clock)
    assert store.claim(TOPIC, 10, lease=LEASE, worker="job") == []
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert [row.key for row in store.claim(TOPIC, 10, lease=LEASE, worker="job")] == ["K1"]


def test_a_waiting_caller_holds_a_pending_row_that_is_not_due_yet(
    any_engine: Engine, clock: Clock
) -> None:
    _queue(any_engine, clock)
    with any_engine.begin() as connection:  # backing off after a failed attempt
        connection.execute(update(outbox_table).values(available_at=clock() + timedelta(hours=1)))

    assert _hold(any_engine, clock)
    row = _row(any_engine)
    assert (row.status, row.claimed_by) == ("claimed", "now:a")


def test_a_row_another_holds_or_that_was_delivered_cannot_be_held(
    engine: Engine, clock: Clock
) -> None:
    _queue(engine, clock)
    assert _hold(engine, clock, holder="now:a")

    assert not _hold(engine, clock, holder="now:b")
    _settle(engine, clock, holder="now:a", result={"label": "x"})
    assert not _hold(engine, clock, holder="now:b")


def test_a_held_row_settled_delivered_keeps_the_answer_and_counts_the_attempt(
    engine: Engine, clock: Clock
) -> None:
    _queue(engine, clock)
    _hold(engine, clock)

    _settle(engine, clock, result={"label": "invoice"})

    row = _row(engine)
    assert (row.status, row.attempts, row.claimed_by) == ("delivered", 1, None)
    assert json.loads(row.result) == {"label": "invoice"}


def test_a_held_row_that_failed_is_due_again_at_retry_at(engine: Engine, clock: Clock) -> None:
    _queue(engine, clock)
    _hold(engine, clock)

    _settle(engine, clock, error="HTTP 500", retry_at=clock() + timedelta(minutes=1))

    row = _row(engine)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
    assert OutboxStore(engine, clock=clock).claim(TOPIC, 10, lease=LEASE, worker="job") == []


def test_a_held_row_that_failed_without_retry_at_is_a_dead_letter(
    engine: Engine, clock: Clock
) -> None:
    _queue(engine, clock)
    _hold(engine, clock)

    _settle(engine, clock, error="refused (Client)")

    row = _row(engine)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "refused (Client)")


def test_settling_a_row_another_holds_changes_nothing(engine: Engine, clock: Clock) -> None:
    _queue(engine, clock)
    OutboxStore(engine, clock=clock).claim(TOPIC, 10, lease=LEASE, worker="job")

    _settle(engine, clock, holder="now:a", result={"label": "x"})

    row = _row(engine)
    assert row.status == "claimed"
    assert row.claimed_by.startswith("job:")


def test_a_released_hold_gives_the_row_back_without_counting_an_attempt(
    engine: Engine, clock: Clock
) -> None:
    _queue(engine, clock)
    _hold(engine, clock)

    with engine.begin() as connection:
        outbox.release_held(connection, topic=TOPIC, key="K1", holder="now:a", now=clock())

    row = _row(engine)
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)


def test_a_claimed_row_settled_failed_for_good_is_dead_with_its_error_cut_short(
    engine: Engine, clock: Clock
) -> None:
    _queue(engine, clock)
    store = OutboxStore(engine, clock=clock)
    [claimed] = store.claim(TOPIC, 10, lease=LEASE, worker="job")

    store.settle_failed(claimed.id, "x" * 5000, retry_at=None)

    row = _row(engine)
    assert (row.status, row.attempts, len(row.last_error)) == ("dead", 1, outbox.MAX_ERROR)
