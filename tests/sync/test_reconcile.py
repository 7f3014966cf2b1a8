"""The reconciler on a fake core bank: every unfinished transfer ends settled, posted at most
once, and a second run changes nothing. On SQLite and on PostgreSQL (the claims differ)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, update

from bridge.app import Bridge, create_app
from bridge.domain import PostingResult, TransferRequest, TransferStatus, TransferStatusQuery
from bridge.domain.errors import UpstreamUnavailable
from bridge.mapping import canonical_json
from bridge.services.banking import BankingService
from bridge.services.retry import RetryPolicy
from bridge.settings import Settings
from bridge.store.tables import transfers
from bridge.store.transfers import TransferRecord, TransferStore
from bridge.sync.reconcile import Reconciler, ReconcileReport
from tests.common.banking import INSUFFICIENT_FUNDS, UNAVAILABLE, FakeCoreBank
from tests.common.clock import Clock

REQUEST = Path(__file__).parents[1] / "data" / "rest" / "transfer_request.json"
START = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)  # a request's
CLIENT = "app-payments"


@dataclasses.dataclass
class World:
    bridge: Bridge
    clock: Clock
    corebank: FakeCoreBank
    store: TransferStore
    banking: BankingService
    reconciler: Reconciler

    def reconcile(self) -> ReconcileReport:
        return self.reconciler.run(trigger="manual")

    def request(self, msg_id: str, **changes: object) -> TransferRequest:
        loaded = canonical_json.loads(TransferRequest, REQUEST.read_bytes())
        return dataclasses.replace(loaded, msg_id=msg_id, **changes)  # type: ignore[arg-type]

    def abandon(self, msg_id: str, **changes: object) -> TransferRecord:
        """A transfer stored by a request that then died before PostPayment (lease held)."""
        request = self.request(msg_id, **changes)
        record, held = self.store.claim(
            tx_id=f"TX{msg_id}",
            client_id=CLIENT,
            msg_id=msg_id,
            fingerprint="f" * 64,
            request=canonical_json.dumps(request).decode(),
            door="rest",
            lease=LEASE,
        )
        assert held
        return record

    def transfer(self, msg_id: str) -> TransferRecord:
        record = self.store.find(CLIENT, msg_id=msg_id)
        assert record is not None
        return record


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    bridge = create_app(Settings(database_url=database_url, simulators=False, scheduler=False))
    with bridge.engine.begin() as connection:  # the PostgreSQL database is the session's
        connection.execute(delete(transfers))
    clock = Clock(START)
    corebank = FakeCoreBank(ledger={})
    store = TransferStore(bridge.engine, clock=clock)
    banking = BankingService(
        store,
        corebank,  # type: ignore[arg-type]
        bridge.mappings.currencies,
        retry=RetryPolicy(attempts=2, initial_wait=0, max_wait=0),
        lease=LEASE,
        today=lambda: clock().date(),
    )
    reconciler = Reconciler(
        store,
        banking,
        lease=timedelta(minutes=5),
        post_within=timedelta(days=1),
        pending_every=timedelta(minutes=5),
        audit=bridge.audit,
        clock=clock,
    )
    yield World(bridge, clock, corebank, store, banking, reconciler)
    bridge.close()


def test_transfer_abandoned_after_core_banking_failed_is_posted_once_and_booked(
    world: World,
) -> None:
    world.corebank.results = [UNAVAILABLE, UNAVAILABLE]
    with pytest.raises(UpstreamUnavailable):
        world.banking.transfer_funds(world.request("R-1"), client_id=CLIENT, door="rest")
    assert world.transfer("R-1").status == "RCVD"

    report = world.reconcile()

    assert [(e.msg_id, e.outcome, e.how) for e in report.settled] == [("R-1", "booked", "posted")]
    record = world.transfer("R-1")
    assert (record.status, record.attempts, record.lease_until) == ("ACSC", 3, None)
    assert list(world.corebank.ledger or {}) == [record.tx_id]  # applied once
    assert world.reconcile().settled == []
    assert len(world.corebank.postings) == 3  # two refused as unavailable, one applied


def test_transfer_core_banking_applied_is_finished_as_booked_without_posting(
    world: World,
) -> None:
    record = world.abandon("R-2")
    applied = PostingResult(
        payment_id="P-9", status=TransferStatus.ACSC, result_text="ok", posting_date=date.today()
    )
    assert world.corebank.ledger is not None
    world.corebank.ledger[record.tx_id] = applied
    world.clock.advance(seconds=61)  # the request's lease ran out

    report = world.reconcile()

    assert [(e.outcome, e.how) for e in report.settled] == [("booked", "found")]
    assert world.corebank.postings == []
    assert (world.transfer("R-2").status, world.transfer("R-2").payment_id) == ("ACSC", "P-9")
    assert world.reconcile().settled == []


def test_transfer_held_by_a_live_request_is_left_alone(world: World) -> None:
    world.abandon("R-3")
    world.clock.advance(seconds=59)

    assert world.reconcile().settled == []
    assert world.corebank.postings == []
    world.clock.advance(seconds=2)
    assert [e.outcome for e in world.reconcile().settled] == ["booked"]


def test_rejection_by_core_banking_keeps_its_reason(world: World) -> None:
    world.abandon("R-4")
    world.clock.advance(seconds=61)
    world.corebank.results = [INSUFFICIENT_FUNDS]

    (entry,) = world.reconcile().settled

    assert (entry.outcome, entry.status, entry.reason) == (
        "rejected",
        "RJCT",
        "AM04 insufficient funds",
    )
    assert world.transfer("R-4").reason_code == "AM04"


def test_transfer_received_too_long_ago_is_refused_unposted(world: World) -> None:
    world.abandon("R-5")
    world.clock.advance(days=1, seconds=1)

    (entry,) = world.reconcile().settled

    assert (entry.outcome, entry.how, entry.status) == ("refused", "refused", "RJCT")
    assert world.transfer("R-5").reason_code == "TM01"
    assert world.corebank.postings == []


def test_requested_execution_date_passed_while_waiting_is_refused_unposted(world: World) -> None:
    world.abandon("R-6", requested_execution_date=START.date())
    world.clock.advance(hours=15)  # the next day, within a day of receipt

    (entry,) = world.reconcile().settled

    assert (entry.outcome, world.transfer("R-6").reason_code) == ("refused", "DT01")
    assert world.corebank.postings == []


def test_requested_execution_date_already_past_on_receipt_is_posted(world: World) -> None:
    world.abandon("R-7", requested_execution_date=date(2026, 11, 25))
    world.clock.advance(seconds=61)

    assert [e.outcome for e in world.reconcile().settled] == ["booked"]
    assert [p.value_date for p in world.corebank.postings] == [date(2026, 11, 25)]


def test_stored_request_that_no_longer_maps_is_refused_unposted(world: World) -> None:
    record = world.abandon("R-8")
    with world.bridge.engine.begin() as connection:
        connection.execute(
            update(transfers)
            .where(transfers.c.tx_id == record.tx_id)
            .values(request=record.request.replace('"EUR"', '"XXQ"'))
        )
    world.clock.advance(seconds=61)

    (entry,) = world.reconcile().settled

    assert (entry.outcome, world.transfer("R-8").reason_code) == ("refused", "NARR")
    assert entry.reason is not None
    assert "no longer maps" in entry.reason
    assert world.corebank.postings == []


def test_pending_transfer_is_asked_again_after_a_while_and_finished(world: World) -> None:
    world.corebank.results = [
        PostingResult(payment_id="P-7", status=TransferStatus.PDNG, result_text="clearing")
    ]
    result = world.banking.transfer_funds(world.request("R-9"), client_id=CLIENT, door="rest")
    assert result.status == TransferStatus.PDNG
    world.clock.advance(minutes=4)
    assert world.reconcile().settled == []  # asked too recently

    world.clock.advance(minutes=2)
    assert [(e.outcome, e.how) for e in world.reconcile().settled] == [("pending", "unchanged")]
    assert world.reconcile().settled == []  # asked just now

    assert world.corebank.ledger is not None
    world.corebank.ledger[result.tx_id] = PostingResult(
        payment_id="P-7", status=TransferStatus.ACSC, result_text="cleared"
    )
    world.clock.advance(minutes=6)
    assert [(e.outcome, e.how) for e in world.reconcile().settled] == [("booked", "found")]
    assert len(world.corebank.postings) == 1


def test_core_banking_down_stops_the_run_and_leaves_the_transfers_for_the_next(
    world: World,
) -> None:
    for msg_id in ("R-10", "R-11"):
        world.abandon(msg_id)
    world.clock.advance(seconds=61)
    world.corebank.failure = UpstreamUnavailable("corebank", "down", 5)

    report = world.reconcile()

    assert [e.outcome for e in report.settled] == ["failed"]
    assert report.error is not None
    assert "unavailable" in report.error
    assert world.transfer("R-10").status == "RCVD"
    assert world.transfer("R-10").lease_until is None  # a retried request may resume it now
    world.corebank.failure = None
    assert sorted(e.msg_id for e in world.reconcile().settled) == ["R-10", "R-11"]
    assert len(world.corebank.postings) == 2


def test_reconciled_transfer_is_what_a_status_query_and_a_retry_answer(world: World) -> None:
    world.corebank.failure = UpstreamUnavailable("corebank", "down", 5)
    with pytest.raises(UpstreamUnavailable):
        world.banking.transfer_funds(world.request("R-12"), client_id=CLIENT, door="rest")
    world.corebank.failure = None
    (entry,) = world.reconcile().settled

    retried = world.banking.transfer_funds(world.request("R-12"), client_id=CLIENT, door="rest")
    status = world.banking.transfer_status(TransferStatusQuery(msg_id="R-12"), client_id=CLIENT)

    assert retried.status == status.status == TransferStatus.ACSC
    assert retried.tx_id == entry.tx_id
    assert len(world.corebank.ledger or {}) == 1


def test_each_transfer_looked_at_is_audited_and_counted(world: World) -> None:
    before = REGISTRY.get_sample_value("bridge_reconciled_total", {"outcome": "booked"}) or 0
    record = world.abandon("R-13")
    world.clock.advance(seconds=61)

    world.reconcile()

    world.bridge.audit.flush()
    rows = world.bridge.audit.query(interface="sync", since=START, limit=1000)
    (row,) = [row for row in rows if row.resource_id == record.tx_id]
    assert (row.operation, row.resource_id, row.outcome, row.status) == (
        "reconcile transfer",
        record.tx_id,
        "ok",
        "booked",
    )
    assert row.detail is not None
    assert "MsgId R-13" in row.detail
    after = REGISTRY.get_sample_value("bridge_reconciled_total", {"outcome": "booked"})
    assert after == before + 1


def test_concurrent_reconcilers_post_each_transfer_once(world: World) -> None:
    for n in range(12):
        world.abandon(f"R-C{n}")
    world.clock.advance(seconds=61)
    other = Reconciler(
        world.store,
        world.banking,
        lease=timedelta(minutes=5),
        post_within=timedelta(days=1),
        pending_every=timedelta(minutes=5),
        clock=world.clock,
    )
    reports: list[ReconcileReport] = []
    runs = [
        threading.Thread(target=lambda r=r: reports.append(r.run()))
        for r in (world.reconciler, other)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=30)

    settled = [e.msg_id for report in reports for e in report.settled]
    assert sorted(settled) == sorted(f"R-C{n}" for n in range(12))
    assert sorted(p.external_ref for p in world.corebank.postings) == sorted(
        f"TXR-C{n}" for n in range(12)
    )


def test_unsettled_counts_only_transfers_older_than_the_alert_age(world: World) -> None:
    world.abandon("R-14")
    world.clock.advance(minutes=10)
    world.abandon("R-15")

    counts = world.store.unsettled(older_than=world.clock() - timedelta(minutes=5))

    assert counts == {"RCVD": 1, "PDNG": 0}
