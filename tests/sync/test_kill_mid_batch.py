"""Nothing lost, nothing twice: a sync worker SIGKILLed in the middle of a batch, restarted,
finishes the queue, and payroll's own records show every change applied exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bridge.domain import EmployeeAction, EmployeeChange, Money, PayPeriod, Salary
from bridge.mapping import Mappings
from bridge.services.hr import HrService
from bridge.store.db import make_engine
from bridge.store.employees import EmployeeStore
from bridge.store.tables import outbox
from tests.common.live import free_port
from tests.credentials import simulator_admin

pytestmark = pytest.mark.slow

CHANGES = 1200
IBANS = ["DE89370400440532013000", "GB29NWBK60161331926819", "GB82WEST12345698765432"]
BRIDGE = Path(sys.executable).with_name("bridge")


def _change(n: int) -> EmployeeChange:
    return EmployeeChange(
        record_id=f"KILL-{n:05d}",
        employee_no=f"K{n:05d}",
        given_name="Ngọc Ánh" if n % 3 else "Jürgen",
        family_name="Trần" if n % 2 else "山本",
        salary=Salary(
            amount=Money(amount=Decimal("4100.00"), currency="EUR"), period=PayPeriod.MONTHLY
        ),
        weekly_hours=Decimal("38.5"),
        bank_account=IBANS[n % 3],
        effective_date=date(2026, 12, 1),
        action=EmployeeAction.HIRE,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`bridge serve` hosting the simulators (their records live in the database)."""
    port = free_port()
    env = {
        **os.environ,
        "BRIDGE_PORT": str(port),
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}",
        "BRIDGE_SCHEDULER": "false",
        "BRIDGE_SYNC_LEASE": "3",
    }
    process = subprocess.Popen(
        [str(BRIDGE), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("bridge serve did not start")
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=30)


def _delivered(engine: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        count: int = connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status == "delivered")
        ).scalar_one()
    return count


def test_worker_killed_mid_batch_resumes_and_applies_every_change_exactly_once(
    server: tuple[str, dict[str, str]],
) -> None:
    base, env = server
    engine = make_engine(env["BRIDGE_DATABASE_URL"])
    hr = HrService(EmployeeStore(engine), Mappings.load().currencies)
    hr.record_changes(_change(n) for n in range(CHANGES))
    admin = simulator_admin(engine).headers
    # Slow payroll down so the kill lands while a batch is in flight.
    requests.post(
        f"{base}/sims/payroll/_control/faults",
        json={"kind": "latency", "count": 4, "seconds": 0.8},
        headers=admin,
        timeout=5,
    ).raise_for_status()

    worker = subprocess.Popen(
        [str(BRIDGE), "sync", "run", "payroll"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while _delivered(engine) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the next batch is now on its way to payroll
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    killed_at = _delivered(engine)
    assert 0 < killed_at < CHANGES, "the kill must land in the middle of the work"
    with engine.connect() as connection:
        stranded = connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status == "claimed")
        ).scalar_one()
    assert stranded > 0, "the kill must land while a batch is claimed and in flight"

    time.sleep(3.5)  # the dead worker's lease on its claimed rows runs out
    finished = subprocess.run(
        [str(BRIDGE), "sync", "run", "payroll"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr

    assert _delivered(engine) == CHANGES
    effects = requests.get(
        f"{base}/sims/payroll/_control/effects",
        params={"scope": "record"},
        headers=admin,
        timeout=30,
    ).json()["effects"]
    applied = [e["idempotency_key"] for e in effects if e["idempotency_key"].startswith("KILL-")]
    assert len(applied) == CHANGES
    assert len(set(applied)) == CHANGES
    engine.dispose()
