"""The reconciler end to end: a live bridge (real sockets, the core banking simulator in
process) leaves a transfer unfinished; the reconciler settles it, and the simulator's own
records show core banking applied it exactly once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import delete, select

from bridge.app import start_leadership
from bridge.cli import main
from bridge.domain.errors import Conflict
from bridge.sims import controls
from bridge.sims.control import SimControl
from bridge.store.tables import transfers
from bridge.sync import scheduler as scheduler_module
from tests.common.live import LiveBridge, serve_bridge

REQUEST = Path(__file__).parents[1] / "data" / "rest" / "transfer_request.json"

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveBridge]:
    url = (
        f"sqlite:///{tmp_path / 'bridge.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    # Core banking gets 1 s to answer; the scheduler, when a test starts it, reconciles every
    # 1 s; /metrics counts every unsettled transfer (older than 1 ms).
    with serve_bridge(
        database_url=url,
        upstream_timeout=1.0,
        reconcile_schedule="every 1s",
        reconcile_alert_after=0.001,
    ) as bridge:
        with bridge.bridge.engine.begin() as connection:  # PostgreSQL's database is the session's
            connection.execute(delete(transfers))
        corebank(bridge).clear_faults()
        yield bridge
        corebank(bridge).clear_faults()
        bridge.bridge.audit.flush()  # before the database goes


def corebank(live: LiveBridge) -> SimControl:
    return controls(live.bridge.engine)["corebank"]


def post_transfer(live: LiveBridge, msg_id: str) -> requests.Response:
    body: dict[str, Any] = json.loads(REQUEST.read_text("utf-8"))
    body["msg_id"] = msg_id
    return requests.post(f"{live.url}/api/v1/transfers", json=body, timeout=30)


def stored(live: LiveBridge, msg_id: str) -> Any:
    with live.bridge.engine.connect() as connection:
        return connection.execute(select(transfers).where(transfers.c.msg_id == msg_id)).one()


def applied(live: LiveBridge, tx_id: str) -> int:
    """Payments core banking applied under this externalRef, by its own records."""
    return len(corebank(live).effects(scope="payment", key=tx_id))


def posted(live: LiveBridge, tx_id: str) -> int:
    """PostPayment calls core banking received for it."""
    return len(corebank(live).calls("PostPayment", key=tx_id))


def test_transfer_core_banking_never_received_is_posted_once_by_the_reconciler(
    live: LiveBridge,
) -> None:
    corebank(live).inject("drop", 100)  # every call: the connection closes unanswered
    failed = post_transfer(live, "LIVE-1")
    assert failed.status_code == 503, failed.text
    corebank(live).clear_faults()
    transfer = stored(live, "LIVE-1")
    assert (transfer.status, applied(live, transfer.tx_id)) == ("RCVD", 0)
    reconciler = live.bridge.reconciler
    assert reconciler is not None

    report = reconciler.run()

    assert [(e.tx_id, e.outcome, e.how) for e in report.settled] == [
        (transfer.tx_id, "booked", "posted")
    ]
    assert stored(live, "LIVE-1").status == "ACSC"
    assert applied(live, transfer.tx_id) == 1
    assert reconciler.run().settled == []
    assert applied(live, transfer.tx_id) == 1
    read = requests.get(f"{live.url}/api/v1/transfers/{transfer.tx_id}", timeout=30)
    assert read.json()["status"] == "ACSC"


def test_transfer_core_banking_applied_is_finished_without_a_second_posting(
    live: LiveBridge,
) -> None:
    # Core banking applies the payment and holds its reply past the bridge's 1 s; then it
    # fails the request's inquiries, so the request gives up with the outcome unknown.
    corebank(live).inject("timeout", 1, seconds=3, stage="response", operation="PostPayment")
    corebank(live).inject("http_500", 2, operation="InquirePayment")
    failed = post_transfer(live, "LIVE-2")
    assert failed.status_code == 503, failed.text
    transfer = stored(live, "LIVE-2")
    assert (transfer.status, applied(live, transfer.tx_id)) == ("RCVD", 1)
    reconciler = live.bridge.reconciler
    assert reconciler is not None

    report = reconciler.run()

    assert [(e.outcome, e.how) for e in report.settled] == [("booked", "found")]
    assert stored(live, "LIVE-2").status == "ACSC"
    assert (posted(live, transfer.tx_id), applied(live, transfer.tx_id)) == (1, 1)
    assert reconciler.run().settled == []


def test_the_scheduler_reconciles_on_its_schedule(live: LiveBridge) -> None:
    corebank(live).inject("drop", 100)
    assert post_transfer(live, "LIVE-3").status_code == 503
    corebank(live).clear_faults()
    tx_id = stored(live, "LIVE-3").tx_id

    reconciler = live.bridge.reconciler
    assert reconciler is not None
    leadership = start_leadership(live.bridge)
    try:
        deadline = time.monotonic() + 30
        while stored(live, "LIVE-3").status == "RCVD" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        leadership.stop()
        scheduler_module._reconciler = None
        scheduler_module._engine = None

    assert stored(live, "LIVE-3").status == "ACSC"
    assert applied(live, tx_id) == 1
    while True:  # once a scheduled run still going has ended, another one finds nothing to do
        try:
            assert reconciler.run().settled == []
            break
        except Conflict:
            time.sleep(0.1)


def test_bridge_sync_reconcile_prints_what_it_settled(
    live: LiveBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    corebank(live).inject("drop", 100)
    assert post_transfer(live, "LIVE-4").status_code == 503
    corebank(live).clear_faults()
    tx_id = stored(live, "LIVE-4").tx_id
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    env = {
        "BRIDGE_DATABASE_URL": live.bridge.settings.database_url,
        "BRIDGE_COREBANK_URL": f"{live.url}/sims/corebank",
        "BRIDGE_SIMULATORS": "false",
        "BRIDGE_SCHEDULER": "false",
    }

    ran = CliRunner().invoke(main, ["sync", "reconcile"], env=env)
    again = CliRunner().invoke(main, ["sync", "reconcile"], env=env)

    assert ran.exit_code == 0, ran.output
    (line,) = [line for line in ran.output.splitlines() if line.startswith(tx_id)]
    assert line.split()[1:5] == ["LIVE-4", "booked", "posted", "ACSC"]
    assert "1 booked, 0 pending, 0 rejected, 0 refused, 0 failed" in ran.output
    assert again.exit_code == 0, again.output
    assert "0 booked, 0 pending, 0 rejected, 0 refused, 0 failed" in again.output
    assert applied(live, tx_id) == 1


def test_metrics_show_unsettled_transfers_until_reconciled(live: LiveBridge) -> None:
    corebank(live).inject("drop", 100)
    assert post_transfer(live, "LIVE-5").status_code == 503
    corebank(live).clear_faults()
    before = scrape(live)
    reconciler = live.bridge.reconciler
    assert reconciler is not None

    reconciler.run()

    after = scrape(live)
    assert before['bridge_transfers_unsettled{status="RCVD"}'] == 1.0
    assert after['bridge_transfers_unsettled{status="RCVD"}'] == 0.0
    assert after[BOOKED] == before[BOOKED] + 1  # the counter is this process's, over all tests


BOOKED = 'bridge_reconciled_total{outcome="booked"}'


def scrape(live: LiveBridge) -> dict[str, float]:
    """The samples of /metrics, by name and labels as exposed."""
    text = requests.get(f"{live.url}/metrics", timeout=30).text
    samples = (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, value in samples}
