"""Every outbox row a sync run settles (delivered, retried, dead) becomes an audit entry with
interface "sync", through the engine's outcome listener `SyncAudit`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Engine

from bridge.domain.errors import UpstreamUnavailable
from bridge.store.audit import AuditLog, AuditRecord
from bridge.sync import outbox as outbox_module
from bridge.sync.audit import SyncAudit
from bridge.sync.engine import Dead, Delivered, Outcome, Retry, SyncEngine
from bridge.sync.outbox import Outbox, OutboxRow

IBAN = "DE89370400440532013000"


class Payroll:
    """Delivers rows by key: DELIVER-* delivered, DEAD-* refused for good, anything else a
    transient failure; or, with `down`, refuses the whole batch as unavailable."""

    topic = "payroll"
    upstream = "payroll"
    batch_size = 10

    def __init__(self) -> None:
        self.down = False

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        if self.down:
            raise UpstreamUnavailable("payroll", "payroll did not answer within 10 s")
        outcomes: dict[int, Outcome] = {}
        for row in rows:
            if row.key.startswith("DELIVER"):
                outcomes[row.id] = Delivered({"result": "ok"})
            elif row.key.startswith("DEAD"):
                outcomes[row.id] = Dead(f"rejected: account {IBAN} closed")
            else:
                outcomes[row.id] = Retry("busy")
        return outcomes


@pytest.fixture
def audit(engine: Engine) -> Iterator[AuditLog]:
    log = AuditLog(engine)
    yield log
    log.close()


@pytest.fixture
def payroll() -> Payroll:
    return Payroll()


@pytest.fixture
def sync(engine: Engine, audit: AuditLog, payroll: Payroll) -> SyncEngine:
    return SyncEngine(
        engine, Outbox(engine), {"payroll": payroll}, on_outcome=SyncAudit(audit), node="test"
    )


def queue(engine: Engine, *keys: str) -> None:
    with engine.begin() as connection:
        for key in keys:
            outbox_module.add(
                connection, topic="payroll", key=key, payload="{}", correlation_id=f"cid-{key}"
            )


def sync_entries(audit: AuditLog) -> dict[str, AuditRecord]:
    audit.flush()
    found = audit.query(interface="sync")
    return {entry.detail.split()[1].rstrip(":"): entry for entry in found if entry.detail}


def test_each_settled_row_is_one_sync_entry(
    engine: Engine, sync: SyncEngine, audit: AuditLog
) -> None:
    queue(engine, "DELIVER-1", "DEAD-1", "LATER-1")

    report = sync.run("payroll")

    found = sync_entries(audit)
    assert (report.delivered, report.dead, report.retried) == (1, 1, 1)
    assert {key: (e.status, e.outcome) for key, e in found.items()} == {
        "DELIVER-1": ("delivered", "ok"),
        "DEAD-1": ("dead", "server_error"),
        "LATER-1": ("retry", "server_error"),
    }
    delivered = found["DELIVER-1"]
    assert delivered.operation == "deliver payroll"
    assert delivered.correlation_id == "cid-DELIVER-1"
    assert delivered.resource_id is not None
    assert delivered.resource_id.isdigit()
    assert found["DEAD-1"].detail == "key DEAD-1: rejected: account DE89…3000 closed"


def test_an_unavailable_upstream_retries_every_row_of_the_batch(
    engine: Engine, sync: SyncEngine, audit: AuditLog, payroll: Payroll
) -> None:
    payroll.down = True
    queue(engine, "DELIVER-2", "DELIVER-3")

    sync.run("payroll")

    found = sync_entries(audit)
    assert {key: e.status for key, e in found.items()} == {
        "DELIVER-2": "retry",
        "DELIVER-3": "retry",
    }
    assert "did not answer" in (found["DELIVER-2"].detail or "")


def test_a_failing_listener_does_not_fail_the_delivery(
    engine: Engine, payroll: Payroll, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(row: OutboxRow, result: str, error: str | None) -> None:
        raise RuntimeError("listener broke")

    sync = SyncEngine(engine, Outbox(engine), {"payroll": payroll}, on_outcome=broken)
    queue(engine, "DELIVER-4")

    report = sync.run("payroll")

    assert report.delivered == 1
    assert report.error is None
    assert "outcome listener failed" in caplog.text
