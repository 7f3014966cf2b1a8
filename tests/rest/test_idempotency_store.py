"""The idempotency key store over a migrated SQLite database, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bridge.app import create_app
from bridge.settings import Settings
from bridge.store.idempotency import IdempotencyStore, StoredResponse
from tests.common.clock import Clock

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CREATED = StoredResponse(
    status_code=201,
    content_type="application/json",
    headers={"Location": "/api/v1/transfers/TX1"},
    body=b'{"tx_id":"TX1"}',
)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    yield bridge.engine
    bridge.engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def store(engine: Engine, clock: Clock) -> IdempotencyStore:
    return IdempotencyStore(engine, clock=clock)


def test_first_claim_holds_the_key(store: IdempotencyStore) -> None:
    record, held = store.claim("app", "k", "f1")

    assert held
    assert record.running


def test_second_claim_sees_the_running_first(store: IdempotencyStore) -> None:
    store.claim("app", "k", "f1")

    record, held = store.claim("app", "k", "f1")

    assert not held
    assert record.running
    assert record.response is None


def test_completed_key_hands_out_the_stored_response(store: IdempotencyStore) -> None:
    record, _ = store.claim("app", "k", "f1")
    assert store.complete(record, CREATED)

    again, held = store.claim("app", "k", "f1")

    assert not held
    assert again.response == CREATED


def test_response_is_kept_24_hours_then_the_key_is_new_again(
    store: IdempotencyStore, clock: Clock
) -> None:
    record, _ = store.claim("app", "k", "f1")
    store.complete(record, CREATED)

    clock.now = START + timedelta(hours=23, minutes=59)
    assert store.claim("app", "k", "f2")[1] is False
    clock.now = START + timedelta(hours=24, seconds=1)
    fresh, held = store.claim("app", "k", "f2")

    assert held
    assert fresh.fingerprint == "f2"


def test_abandoned_running_key_is_taken_over_after_its_lease(
    store: IdempotencyStore, clock: Clock
) -> None:
    dead, _ = store.claim("app", "k", "f1")
    clock.now = START + timedelta(minutes=3)

    successor, held = store.claim("app", "k", "f1")

    assert held
    assert not store.complete(dead, CREATED), "the dead attempt must not overwrite its successor"
    assert store.complete(successor, CREATED)


def test_released_key_can_be_claimed_again(store: IdempotencyStore) -> None:
    record, _ = store.claim("app", "k", "f1")
    store.release(record)

    assert store.claim("app", "k", "f1")[1]


def test_keys_are_per_client(store: IdempotencyStore) -> None:
    store.claim("app", "k", "f1")

    assert store.claim("other-app", "k", "f1")[1]


def test_purge_removes_only_expired_keys(store: IdempotencyStore, clock: Clock) -> None:
    old, _ = store.claim("app", "old", "f")
    store.complete(old, CREATED)
    clock.now = START + timedelta(hours=20)
    young, _ = store.claim("app", "young", "f")
    store.complete(young, CREATED)
    clock.now = START + timedelta(hours=25)

    assert store.purge_expired() == 1
    assert store.find("app", "old") is None
    assert store.find("app", "young") is not None


def test_keeping_keys_less_than_a_day_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="24 hours"):
        IdempotencyStore(engine, keep=timedelta(hours=1))
