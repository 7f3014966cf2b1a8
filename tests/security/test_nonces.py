"""The nonce memory behind WS-Security: once per client within the ttl, shared by every thread
and node; on SQLite and PostgreSQL (the `wss_nonces` table) and in Redis."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy import Engine, func, select

from bridge.domain.errors import ReplayedNonce
from bridge.security.nonces import DatabaseNonces, NonceStore, RedisNonces, purge_expired
from bridge.store.db import make_engine, migrate
from bridge.store.security_tables import wss_nonces
from bridge.sync.housekeeping import purge
from tests.common.clock import Clock

TTL = timedelta(seconds=360)
RACERS = 8


@pytest.fixture
def nonces(engine: Engine, clock: Clock) -> DatabaseNonces:
    return DatabaseNonces(engine, TTL, clock=clock)


@pytest.fixture(scope="module")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=3)
    yield client
    client.close()


@pytest.fixture
def redis_nonces(redis_client: redis.Redis, redis_prefix: str) -> RedisNonces:
    return RedisNonces(redis_client, TTL, prefix=f"{redis_prefix}:")


def race(store: NonceStore, client_id: str, nonce: bytes) -> list[str]:
    """`RACERS` threads remember the same nonce at once; what each of them got."""
    start = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def use() -> None:
        start.wait()
        try:
            store.remember(client_id, nonce)
            outcome = "accepted"
        except ReplayedNonce:
            outcome = "replayed"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=use) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def count_rows(engine: Engine) -> int:
    with engine.connect() as db:
        found: int = db.execute(select(func.count()).select_from(wss_nonces)).scalar_one()
    return found


# -- the database -------------------------------------------------------------------------------


def test_a_nonce_is_accepted_once(nonces: DatabaseNonces) -> None:
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)

    with pytest.raises(ReplayedNonce):
        nonces.remember("cl_a", nonce)


def test_the_same_nonce_of_another_client_is_another_nonce(nonces: DatabaseNonces) -> None:
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)

    nonces.remember("cl_b", nonce)


def test_a_nonce_is_refused_until_its_ttl_has_passed(nonces: DatabaseNonces, clock: Clock) -> None:
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)
    clock.advance(seconds=TTL.total_seconds() - 1)

    with pytest.raises(ReplayedNonce):
        nonces.remember("cl_a", nonce)


def test_an_expired_row_is_taken_over_before_housekeeping_deletes_it(
    nonces: DatabaseNonces, clock: Clock
) -> None:
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)
    clock.advance(seconds=TTL.total_seconds())

    nonces.remember("cl_a", nonce)
    with pytest.raises(ReplayedNonce):
        nonces.remember("cl_a", nonce)


def test_purge_deletes_expired_nonces_only(
    nonces: DatabaseNonces, engine: Engine, clock: Clock
) -> None:
    nonces.remember("cl_a", os.urandom(16))
    clock.advance(seconds=TTL.total_seconds() / 2)
    kept = os.urandom(16)
    nonces.remember("cl_a", kept)
    clock.advance(seconds=TTL.total_seconds() / 2)

    assert purge_expired(engine, clock.now) == 1
    assert count_rows(engine) == 1
    with pytest.raises(ReplayedNonce):
        nonces.remember("cl_a", kept)


def test_every_nth_insert_purges_the_expired_rows(engine: Engine, clock: Clock) -> None:
    nonces = DatabaseNonces(engine, TTL, clock=clock, purge_every=3)
    nonces.remember("cl_a", os.urandom(16))
    nonces.remember("cl_a", os.urandom(16))
    clock.advance(seconds=TTL.total_seconds() + 1)

    nonces.remember("cl_a", os.urandom(16))

    assert count_rows(engine) == 1


def test_threads_racing_one_nonce_on_sqlite_let_exactly_one_through(
    nonces: DatabaseNonces,
) -> None:
    outcomes = race(nonces, "cl_a", os.urandom(16))

    assert sorted(outcomes) == ["accepted"] + ["replayed"] * (RACERS - 1)


def test_threads_racing_an_expired_nonce_let_exactly_one_through(
    nonces: DatabaseNonces, clock: Clock
) -> None:
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)
    clock.advance(seconds=TTL.total_seconds() + 1)

    outcomes = race(nonces, "cl_a", nonce)

    assert sorted(outcomes) == ["accepted"] + ["replayed"] * (RACERS - 1)


def test_the_hourly_housekeeping_deletes_expired_nonces(
    nonces: DatabaseNonces, engine: Engine, clock: Clock
) -> None:
    nonces.remember("cl_a", os.urandom(16))
    clock.advance(seconds=TTL.total_seconds() + 1)

    purged = purge(engine, retention=timedelta(days=7), now=clock.now)

    assert purged.wss_nonces == 1
    assert count_rows(engine) == 0


@pytest.mark.postgres
def test_a_nonce_is_accepted_once_on_postgresql(postgres_engine: Engine, clock: Clock) -> None:
    nonces = DatabaseNonces(postgres_engine, TTL, clock=clock)
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)

    with pytest.raises(ReplayedNonce):
        nonces.remember("cl_a", nonce)


@pytest.mark.postgres
def test_threads_racing_one_nonce_on_postgresql_let_exactly_one_through(
    postgres_engine: Engine, clock: Clock
) -> None:
    outcomes = race(DatabaseNonces(postgres_engine, TTL, clock=clock), "cl_a", os.urandom(16))

    assert sorted(outcomes) == ["accepted"] + ["replayed"] * (RACERS - 1)


@pytest.mark.postgres
def test_threads_racing_an_expired_nonce_on_postgresql_let_exactly_one_through(
    postgres_engine: Engine, clock: Clock
) -> None:
    nonces = DatabaseNonces(postgres_engine, TTL, clock=clock)
    nonce = os.urandom(16)
    nonces.remember("cl_a", nonce)
    clock.advance(seconds=TTL.total_seconds() + 1)

    outcomes = race(nonces, "cl_a", nonce)

    assert sorted(outcomes) == ["accepted"] + ["replayed"] * (RACERS - 1)


# -- Redis ----------------------------------------------------------------------------------------


@pytest.mark.redis
def test_a_nonce_is_accepted_once_in_redis(redis_nonces: RedisNonces) -> None:
    nonce = os.urandom(16)
    redis_nonces.remember("cl_a", nonce)

    with pytest.raises(ReplayedNonce):
        redis_nonces.remember("cl_a", nonce)


@pytest.mark.redis
def test_the_same_nonce_of_another_client_is_another_nonce_in_redis(
    redis_nonces: RedisNonces,
) -> None:
    nonce = os.urandom(16)
    redis_nonces.remember("cl_a", nonce)

    redis_nonces.remember("cl_b", nonce)


@pytest.mark.redis
def test_redis_keys_expire_by_themselves_within_the_ttl(
    redis_nonces: RedisNonces, redis_client: redis.Redis, redis_prefix: str
) -> None:
    redis_nonces.remember("cl_a", os.urandom(16))

    (key,) = redis_client.scan_iter(match=f"{redis_prefix}:*")
    assert 0 < redis_client.ttl(key) <= TTL.total_seconds()


@pytest.mark.redis
def test_threads_racing_one_nonce_in_redis_let_exactly_one_through(
    redis_nonces: RedisNonces,
) -> None:
    outcomes = race(redis_nonces, "cl_a", os.urandom(16))

    assert sorted(outcomes) == ["accepted"] + ["replayed"] * (RACERS - 1)
