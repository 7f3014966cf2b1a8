"""Idempotency keys of the REST door: the first response to a key, kept and replayed.

A request claims its key by inserting a `running` row; the primary key (client_id, key) decides
between concurrent requests, so exactly one of them runs. While it runs, the row's `expires_at`
is a short lease: a process that dies mid-request leaves a row that the next retry takes over
once the lease has passed, instead of a key stuck at "still running" for a day. When the request
finishes, its response is stored and the row is kept for `keep` (24 hours, the minimum the
IETF draft and Stripe promise). A row past `expires_at` counts as absent and is replaced.

The row's `created_at` identifies the attempt that holds it: completing or releasing a row is
conditional on it, so an attempt whose lease was taken over cannot overwrite its successor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import as_utc
from bridge.store.base import Store
from bridge.store.tables import idempotency_keys

RUNNING = "running"
DONE = "done"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response as it is replayed: status, media type, the headers worth repeating, body."""

    status_code: int
    content_type: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class KeyRecord:
    client_id: str
    key: str
    fingerprint: str
    state: str
    response: StoredResponse | None
    created_at: datetime
    expires_at: datetime

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @classmethod
    def from_row(cls, row: Any) -> KeyRecord:
        response = None
        if row.state == DONE:
            response = StoredResponse(
                status_code=row.status_code,
                content_type=row.content_type,
                headers=orjson.loads(row.headers) if row.headers else {},
                body=row.body or b"",
            )
        created_at, expires_at = as_utc(row.created_at), as_utc(row.expires_at)
        key = {name: getattr(row, name) for name in ("client_id", "key", "fingerprint", "state")}
        return cls(**key, response=response, created_at=created_at, expires_at=expires_at)

    @classmethod
    def claimed(
        cls, client_id: str, key: str, fingerprint: str, now: datetime, lease: timedelta
    ) -> KeyRecord:
        """A key claimed `now`: running, with no response yet, held for `lease`."""
        return cls(client_id, key, fingerprint, RUNNING, None, now, now + lease)

    def columns(self) -> dict[str, Any]:
        """The record as a claimed `idempotency_keys` row (a response is stored by `finish`)."""
        names = [name for name in self.__dataclass_fields__ if name != "response"]
        return {name: getattr(self, name) for name in names}


@dataclass(eq=False, kw_only=True)
class IdempotencyStore(Store):
    """Keys are kept `keep` (at least the 24 hours clients are told) and a running request
    holds its key for `lease`."""

    keep: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=2)

    def __post_init__(self) -> None:
        if self.keep < timedelta(hours=24):
            raise ValueError("idempotency keys must be kept at least 24 hours")

    def claim(self, client_id: str, key: str, fingerprint: str) -> tuple[KeyRecord, bool]:
        """(the key's record, whether this caller now holds it and must run the request).

        Not held means another request owns the key: finished (its response is in the record),
        still running, or made with another fingerprint; the caller tells which from the record.
        """
        for _ in range(3):
            now = self.clock()
            try:
                with self.engine.begin() as connection:
                    # An expired row is as good as absent: drop it in the same transaction.
                    connection.execute(
                        delete(idempotency_keys).where(
                            and_(
                                idempotency_keys.c.client_id == client_id,
                                idempotency_keys.c.key == key,
                                idempotency_keys.c.expires_at <= now,
                            )
                        )
                    )
                    claimed = KeyRecord.claimed(client_id, key, fingerprint, now, self.lease)
                    connection.execute(insert(idempotency_keys).values(**claimed.columns()))
                return claimed, True
            except IntegrityError:
                existing = self.find(client_id, key)
                if existing is not None and existing.expires_at > self.clock():
                    return existing, False
                # Gone or expired in between (another claimant replaced it): try again.
        raise RuntimeError(f"idempotency key {key!r} kept changing hands; giving up")

    def find(self, client_id: str, key: str) -> KeyRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(idempotency_keys).where(
                    and_(idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key)
                )
            ).first()
        return None if row is None else KeyRecord.from_row(row)

    def complete(self, record: KeyRecord, response: StoredResponse) -> bool:
        """Store the response of the attempt holding `record`; False if it lost the key."""
        now = self.clock()
        with self.engine.begin() as connection:
            stored = connection.execute(
                update(idempotency_keys)
                .where(self._held_by(record))
                .values(
                    state=DONE,
                    status_code=response.status_code,
                    content_type=response.content_type,
                    headers=orjson.dumps(dict(response.headers)).decode(),
                    body=response.body,
                    expires_at=now + self.keep,
                )
            ).rowcount
        return bool(stored)

    def release(self, record: KeyRecord) -> None:
        """Forget the key without a response, so that a retry with it runs again."""
        with self.engine.begin() as connection:
            connection.execute(delete(idempotency_keys).where(self._held_by(record)))

    def purge_expired(self) -> int:
        """Delete every expired row; the number deleted. For a housekeeping job."""
        with self.engine.begin() as connection:
            deleted: int = connection.execute(
                delete(idempotency_keys).where(idempotency_keys.c.expires_at <= self.clock())
            ).rowcount
        return deleted

    @staticmethod
    def _held_by(record: KeyRecord) -> Any:
        return and_(
            idempotency_keys.c.client_id == record.client_id,
            idempotency_keys.c.key == record.key,
            idempotency_keys.c.state == RUNNING,
            idempotency_keys.c.created_at == record.created_at,
        )
