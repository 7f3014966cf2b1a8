"""Transfers as stored: claimed by one request at a time, finished once.

A request claims a transfer by inserting it (the unique (client_id, msg_id) decides between
concurrent requests) or, when an earlier request died or gave up, by taking over its expired
lease. Every PostPayment attempt is counted *before* it is sent, so whoever resumes the transfer
knows to reconcile with core banking before posting again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import as_utc
from bridge.store.base import Store
from bridge.store.db import one_statement
from bridge.store.prepared import PreparedWrite
from bridge.store.tables import transfers

RECEIVED = "RCVD"  # stored, core banking has not answered yet
PENDING = "PDNG"  # core banking has it and has not decided yet

# The statements of every transfer, built once: values go in as bound parameters, so
# SQLAlchemy compiles each statement once per engine (its compiled cache) instead of coercing
# and cache-keying a dozen literal values per request.
_INSERT = insert(transfers)
_BY_TX_ID = transfers.c.tx_id == bindparam("b_tx_id")
_FINISH = update(transfers).where(_BY_TX_ID)
_COUNT_ATTEMPT = (
    update(transfers)
    .where(_BY_TX_ID)
    .values(attempts=transfers.c.attempts + 1, updated_at=bindparam("b_now"))
)
_RELEASE = (
    update(transfers).where(_BY_TX_ID).values(lease_until=None, updated_at=bindparam("b_now"))
)


@dataclass(frozen=True, slots=True)
class TransferRecord:
    tx_id: str
    client_id: str
    msg_id: str
    fingerprint: str
    request: str
    door: str
    status: str
    reason_code: str | None
    reason_info: str | None
    booking_date: date | None
    payment_id: str | None
    attempts: int
    lease_until: datetime | None
    created_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status != RECEIVED

    @classmethod
    def from_row(cls, row: Any) -> TransferRecord:
        """The record of a `transfers` row: its columns by name, timestamps in UTC."""
        values = {name: getattr(row, name) for name in cls.__dataclass_fields__}
        lease_until, created_at = as_utc(row.lease_until), as_utc(row.created_at)
        return cls(**values | {"lease_until": lease_until, "created_at": created_at})


_COLUMNS = tuple(field.name for field in fields(TransferRecord))


_ROW_KEYS = (*_COLUMNS, "updated_at")
_FINISH_KEYS = (
    "b_tx_id",
    "status",
    "reason_code",
    "reason_info",
    "booking_date",
    "payment_id",
    "lease_until",
    "updated_at",
)


class TransferStore(Store):
    """Claim and finish, the two writes of every transfer, go straight to the driver
    (`bridge.store.prepared`); the rest through SQLAlchemy."""

    def __post_init__(self) -> None:
        self._insert = PreparedWrite(self.engine, _INSERT, _ROW_KEYS)
        self._finish = PreparedWrite(self.engine, _FINISH, _FINISH_KEYS)

    def claim(
        self,
        *,
        tx_id: str,
        client_id: str,
        msg_id: str,
        fingerprint: str,
        request: str,
        door: str,
        lease: timedelta,
    ) -> tuple[TransferRecord, bool]:
        """(the transfer, whether this caller now holds it). A new transfer is always held, and
        its first PostPayment is counted with it (attempts=1): the caller posts next, and a
        crash in between only makes the resumer look before posting."""
        now = self.clock()
        record = TransferRecord(
            tx_id=tx_id,
            client_id=client_id,
            msg_id=msg_id,
            fingerprint=fingerprint,
            request=request,
            door=door,
            status=RECEIVED,
            reason_code=None,
            reason_info=None,
            booking_date=None,
            payment_id=None,
            attempts=1,
            lease_until=now + lease,
            created_at=now,
        )
        row = {name: getattr(record, name) for name in _COLUMNS}
        try:
            self._insert.run(row | {"updated_at": now})
        except IntegrityError:
            existing = self.find(client_id, msg_id=msg_id)
            if existing is None:  # a concurrent delete cannot happen; be explicit anyway
                raise
            if existing.finished or existing.fingerprint != fingerprint:
                return existing, False
            return self._take_over(existing, lease)
        return record, True

    def _take_over(self, record: TransferRecord, lease: timedelta) -> tuple[TransferRecord, bool]:
        now = self.clock()
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(transfers)
                .where(
                    and_(
                        transfers.c.tx_id == record.tx_id,
                        transfers.c.status == RECEIVED,
                        or_(transfers.c.lease_until.is_(None), transfers.c.lease_until < now),
                    )
                )
                .values(lease_until=now + lease, updated_at=now)
            ).rowcount
        current = self.find(record.client_id, tx_id=record.tx_id)
        assert current is not None
        return current, bool(taken)

    def find(
        self, client_id: str, *, tx_id: str | None = None, msg_id: str | None = None
    ) -> TransferRecord | None:
        query = select(transfers).where(transfers.c.client_id == client_id)
        if tx_id is not None:
            query = query.where(transfers.c.tx_id == tx_id)
        if msg_id is not None:
            query = query.where(transfers.c.msg_id == msg_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else TransferRecord.from_row(row)

    def count_attempt(self, tx_id: str) -> None:
        """Called, and committed, before each PostPayment is sent."""
        with one_statement(self.engine) as connection:
            connection.execute(_COUNT_ATTEMPT, {"b_tx_id": tx_id, "b_now": self.clock()})

    def finish(
        self,
        tx_id: str,
        *,
        status: str,
        reason_code: str | None,
        reason_info: str | None,
        booking_date: date | None,
        payment_id: str | None,
    ) -> None:
        values = {
            "b_tx_id": tx_id,
            "status": status,
            "reason_code": reason_code,
            "reason_info": reason_info,
            "booking_date": booking_date,
            "payment_id": payment_id,
            "lease_until": None,
            "updated_at": self.clock(),
        }
        self._finish.run(values)

    def release(self, tx_id: str) -> None:
        """Give the transfer up unfinished: the next request with its MsgId resumes it."""
        with one_statement(self.engine) as connection:
            connection.execute(_RELEASE, {"b_tx_id": tx_id, "b_now": self.clock()})

    # -- reconciliation (bridge.sync.reconcile) ----------------------------------------------------

    def _due(self, now: datetime, pending_before: datetime) -> ColumnElement[bool]:
        """Transfers the reconciler should look at: unfinished ones nobody holds (a request
        gave up or died), and pending ones not asked about since `pending_before`."""
        free = or_(transfers.c.lease_until.is_(None), transfers.c.lease_until < now)
        return and_(
            free,
            or_(
                transfers.c.status == RECEIVED,
                and_(transfers.c.status == PENDING, transfers.c.updated_at < pending_before),
            ),
        )

    def claim_due(
        self, *, lease: timedelta, pending_before: datetime, skip: frozenset[str] = frozenset()
    ) -> TransferRecord | None:
        """Hold the oldest due transfer (not in `skip`) for `lease`, or None when none is left.

        One at a time, so a slow core banking never lets the lease of a transfer claimed early in
        a batch run out before it is settled. On PostgreSQL `FOR UPDATE SKIP LOCKED` keeps two
        reconcilers off the same row; the conditional UPDATE (as in `_take_over`) decides
        against a request taking the transfer over at the same moment, on any database."""
        now = self.clock()
        due = self._due(now, pending_before)
        passed = set(skip)
        while True:
            with self.engine.begin() as connection:
                query = select(transfers.c.tx_id).where(due)
                if passed:
                    query = query.where(transfers.c.tx_id.not_in(passed))
                tx_id = connection.execute(
                    query.order_by(transfers.c.created_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).scalar()
                if tx_id is None:
                    return None
                taken = connection.execute(
                    update(transfers)
                    .where(and_(transfers.c.tx_id == tx_id, due))
                    .values(lease_until=now + lease, updated_at=now)
                ).rowcount
                row = connection.execute(select(transfers).where(transfers.c.tx_id == tx_id)).one()
            if taken:
                return TransferRecord.from_row(row)
            passed.add(tx_id)  # taken over by someone else between the two statements

    def unsettled(self, *, older_than: datetime) -> dict[str, int]:
        """How many transfers created before `older_than` are still RCVD or PDNG, by status."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(transfers.c.status, func.count())
                .where(
                    transfers.c.status.in_((RECEIVED, PENDING)),
                    transfers.c.created_at < older_than,
                )
                .group_by(transfers.c.status)
            ).all()
        counts = {RECEIVED: 0, PENDING: 0}
        counts.update({status: int(count) for status, count in rows})
        return counts
