"""Claim and finish on the driver's own connection (bridge.store.prepared): stored exactly as
SQLAlchemy stores them, refusing what SQLAlchemy refuses, and letting the SQLite writer lock go
whatever happens, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bridge.domain.errors import UnstorableText
from bridge.store.prepared import PreparedWrite
from bridge.store.tables import transfers
from bridge.store.transfers import TransferStore
from tests.common.databases import migrated_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[TransferStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/bridge.db"
    else:
        url = request.getfixturevalue("postgres_url")
    for engine in migrated_engine(url):
        yield TransferStore(engine)


def claim(
    store: TransferStore, msg_id: str, request: str = "{}", client: str | None = None
) -> tuple[str, bool]:
    """(tx_id, held) of a claim by `client` (a new client by default: PostgreSQL's database
    outlives the test)."""
    client = client or "C" + uuid.uuid4().hex[:8]
    record, held = store.claim(
        tx_id="TX" + uuid.uuid4().hex[:30],
        client_id=client,
        msg_id=msg_id,
        fingerprint="f" * 64,
        request=request,
        door="rest",
        lease=timedelta(seconds=60),
    )
    return record.tx_id, held


def test_a_claimed_and_finished_transfer_reads_back_as_written(store: TransferStore) -> None:
    tx_id, held = claim(store, "M1")
    assert held
    store.finish(
        tx_id,
        status="ACSC",
        reason_code=None,
        reason_info="booked \u00e9",
        booking_date=date(2026, 12, 5),
        payment_id="PAY1",
    )
    with store.engine.connect() as connection:
        row = connection.execute(transfers.select().where(transfers.c.tx_id == tx_id)).one()
    assert (row.status, row.reason_info, row.booking_date, row.payment_id) == (
        "ACSC",
        "booked \u00e9",
        date(2026, 12, 5),
        "PAY1",
    )
    assert row.lease_until is None
    record = store.find(row.client_id, tx_id=tx_id)
    assert record is not None
    assert record.created_at is not None
    assert record.created_at.tzinfo is not None  # timestamps read back in UTC, as before


def test_a_second_claim_of_one_msg_id_is_not_held_and_the_store_still_writes(
    store: TransferStore,
) -> None:
    client = "C" + uuid.uuid4().hex[:8]
    first, held = claim(store, "same", client=client)
    store.finish(
        first, status="ACSC", reason_code=None, reason_info=None, booking_date=None, payment_id="P"
    )
    second, held_again = claim(store, "same", client=client)
    assert held
    assert not held_again  # the unique key answered, as before
    assert second == first
    assert claim(store, "M2")[1]  # the writer lock was let go after the IntegrityError


def test_text_no_database_stores_is_refused_before_the_driver(store: TransferStore) -> None:
    with pytest.raises(UnstorableText):
        claim(store, "M3", request='{"a": "\x00"}')
    assert claim(store, "M4")[1]


def test_a_duplicate_insert_is_sqlalchemys_integrity_error(store: TransferStore) -> None:
    keys = tuple(c.name for c in transfers.columns)
    write = PreparedWrite(store.engine, insert(transfers), keys)
    tx_id, _ = claim(store, "M5")
    with store.engine.connect() as connection:
        row = connection.execute(transfers.select().where(transfers.c.tx_id == tx_id)).one()
    with pytest.raises(IntegrityError):
        write.run(row._asdict())


def test_parameters_not_named_are_refused_when_prepared(store: TransferStore) -> None:
    with pytest.raises(ValueError, match="not named"):
        PreparedWrite(store.engine, insert(transfers), ("tx_id",))
