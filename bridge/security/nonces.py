"""WS-Security nonces seen lately: a UsernameToken's nonce is good once per client.

A PasswordDigest proves the sender knew the password when it made the token, not that the token
is new: anyone who captured a message could send it again. The UsernameToken profile's answer
is a nonce remembered for as long as its Created is accepted (the freshness window plus the
clock skew); a token older than that is refused for its Created instead, so nothing has to be
remembered longer.

Every node must see every other node's nonces, so the memory is shared:

- `DatabaseNonces` (the default): a row per nonce whose primary key is a digest of (client id,
  nonce). `INSERT ... ON CONFLICT DO NOTHING` decides between concurrent uses on SQLite and
  PostgreSQL alike: exactly one inserts. Expired rows are deleted every `purge_every` inserts
  and by the hourly housekeeping (`purge_expired`); until then an expired row is taken over by
  a conditional update, which is just as exclusive.
- `RedisNonces` (when `redis_url` is set): `SET key 1 NX EX ttl`, atomic in Redis, expiring on
  its own.

Both fail closed: when the store cannot be reached, the error propagates and the call is
refused as a server fault, never let through unchecked.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from bridge.domain.clock import Clock, utcnow
from bridge.domain.errors import ReplayedNonce
from bridge.store.security_tables import wss_nonces

REDIS_PREFIX = "bridge:wss:nonce:"
# One insert in this many also deletes the expired rows: a few milliseconds now and then
# instead of a table that grows between housekeeping runs.
PURGE_EVERY = 500
REPLAYED = "this UsernameToken nonce was used before"


def nonce_key(client_id: str, nonce: bytes) -> str:
    """A fixed-size key for (client, nonce): the same nonce from two clients is two nonces."""
    return hashlib.sha256(client_id.encode() + b"\0" + nonce).hexdigest()


class NonceStore(Protocol):
    def remember(self, client_id: str, nonce: bytes) -> None:
        """Nothing the first time this client sends `nonce` within the store's ttl;
        `ReplayedNonce` every other time."""


@dataclass(eq=False)
class DatabaseNonces:
    engine: Engine
    ttl: timedelta
    _: KW_ONLY
    clock: Clock = utcnow
    purge_every: int = PURGE_EVERY
    _inserts: Iterator[int] = field(init=False, default_factory=lambda: itertools.count(1))
    _insert: Any = field(init=False)

    def __post_init__(self) -> None:
        postgres = self.engine.dialect.name == "postgresql"
        self._insert = postgresql.insert if postgres else sqlite.insert

    def remember(self, client_id: str, nonce: bytes) -> None:
        key = nonce_key(client_id, nonce)
        now = self.clock()
        row = {"nonce_hash": key, "seen_at": now, "expires_at": now + self.ttl}
        with self.engine.begin() as db:
            # RETURNING says whether the row went in (psycopg reports no rowcount here).
            inserted = len(
                db.execute(
                    self._insert(wss_nonces)
                    .values(**row)
                    .on_conflict_do_nothing()
                    .returning(wss_nonces.c.nonce_hash)
                ).all()
            )
            if inserted != 1:
                # Seen before; still fine if that row has expired and nobody took it over yet.
                inserted = db.execute(
                    update(wss_nonces)
                    .where(wss_nonces.c.nonce_hash == key, wss_nonces.c.expires_at <= now)
                    .values(seen_at=now, expires_at=now + self.ttl)
                ).rowcount
        if inserted != 1:
            raise ReplayedNonce(REPLAYED)
        if next(self._inserts) % self.purge_every == 0:
            purge_expired(self.engine, now)

    def purge(self) -> int:
        return purge_expired(self.engine, self.clock())


def purge_expired(engine: Engine, now: datetime | None = None) -> int:
    """Delete the nonces no accepted Created can reuse any more; how many went."""
    with engine.begin() as db:
        removed: int = db.execute(
            delete(wss_nonces).where(wss_nonces.c.expires_at <= (now or utcnow()))
        ).rowcount
    return removed


class RedisNonces:
    def __init__(self, redis: Any, ttl: timedelta, *, prefix: str = REDIS_PREFIX) -> None:
        """`redis`: a `redis.Redis` client (shared with whatever else uses the server)."""
        self.redis = redis
        self.ttl = ttl
        self.prefix = prefix

    def remember(self, client_id: str, nonce: bytes) -> None:
        key = self.prefix + nonce_key(client_id, nonce)
        seconds = max(1, int(-(-self.ttl.total_seconds() // 1)))  # whole seconds, rounded up
        if not self.redis.set(key, b"1", nx=True, ex=seconds):
            raise ReplayedNonce(REPLAYED)


def build_nonce_store(redis_url: str | None, engine: Engine, ttl: timedelta) -> NonceStore:
    """Redis when the bridge has one, else the database."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return RedisNonces(client, ttl)
    return DatabaseNonces(engine, ttl)
