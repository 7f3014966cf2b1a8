"""End to end over a real socket: HR changes in through REST, the payroll job run through the
sync API against the payroll simulator, then its deliveries, a dead letter and its replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bridge.sims import controls
from bridge.sync.outbox import Backoff
from tests.common.hr import CHANGES
from tests.common.live import LiveBridge

pytestmark = pytest.mark.slow

TIMEOUT = 60


def api(live: LiveBridge, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{live.url}/api/v1{path}", timeout=TIMEOUT, **kwargs)


def run_payroll(live: LiveBridge) -> dict[str, Any]:
    response = api(live, "POST", "/sync/jobs/payroll/runs")
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def queue(live: LiveBridge, changes: list[dict[str, Any]]) -> None:
    response = api(live, "POST", "/hr/changes", json={"changes": changes})
    assert response.status_code == 202, response.text


@pytest.fixture
def changes() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(CHANGES.read_text("utf-8"))["changes"]
    return loaded


def test_payroll_run_through_the_api_delivers_and_dead_letters_what_payroll_rejects(
    live_bridge: LiveBridge, changes: list[dict[str, Any]]
) -> None:
    queue(live_bridge, changes)

    run = run_payroll(live_bridge)

    assert (run["claimed"], run["delivered"], run["dead"], run["retried"]) == (4, 3, 1, 0)
    assert api(live_bridge, "GET", f"/sync/jobs/payroll/runs/{run['id']}").json() == run
    delivered = api(live_bridge, "GET", "/sync/deliveries", params={"status": "delivered"}).json()
    assert [d["key"] for d in delivered["deliveries"]] == [
        "HR-REC-0001",
        "HR-REC-0002",
        "HR-REC-0003",
    ]
    assert all(d["delivered_at"] for d in delivered["deliveries"])
    dead = api(
        live_bridge, "GET", "/sync/deliveries", params={"status": "dead", "job": "payroll"}
    ).json()["deliveries"]
    assert [d["key"] for d in dead] == ["HR-REC-0004"]
    assert "HOURS_ABOVE_MAXIMUM" in dead[0]["last_error"]
    job = api(live_bridge, "GET", "/sync/jobs/payroll").json()
    assert job["queue"] == {"pending": 0, "claimed": 0, "delivered": 3, "dead": 1}
    assert job["last_runs"][0]["id"] == run["id"]
    applied = {
        e["idempotency_key"]
        for e in controls(live_bridge.bridge.engine)["payroll"].effects(scope="record")
    }
    assert {"HR-REC-0001", "HR-REC-0002", "HR-REC-0003"} <= applied


def test_a_replayed_rejection_is_rejected_again_and_a_corrected_change_is_delivered(
    live_bridge: LiveBridge, changes: list[dict[str, Any]]
) -> None:
    queue(live_bridge, changes)
    run_payroll(live_bridge)
    [dead] = api(live_bridge, "GET", "/sync/deliveries", params={"status": "dead"}).json()[
        "deliveries"
    ]

    replayed = api(live_bridge, "POST", f"/sync/deliveries/{dead['id']}/replay")
    again = run_payroll(live_bridge)

    assert replayed.status_code == 200
    assert replayed.json()["status"] == "pending"
    # Payroll answers a record id it refused with its first answer: replay cannot change that.
    assert (again["claimed"], again["dead"]) == (1, 1)
    corrected = {**changes[3], "record_id": "HR-REC-0004-FIX", "weekly_hours": "40"}
    del corrected["employee_no"]
    put = api(live_bridge, "PUT", "/hr/employees/HR2004", json=corrected)
    assert put.status_code == 202, put.text
    fixed = run_payroll(live_bridge)
    assert (fixed["claimed"], fixed["delivered"]) == (1, 1)
    delivery = api(live_bridge, "GET", f"/sync/deliveries/{put.json()['queue']['delivery_id']}")
    assert delivery.json()["status"] == "delivered"
    assert api(live_bridge, "GET", "/hr/employees/HR2004").json()["weekly_hours"] == "40"


def test_dead_letters_of_an_outage_are_replayed_all_at_once_and_delivered(
    live_bridge: LiveBridge, changes: list[dict[str, Any]]
) -> None:
    live_bridge.bridge.sync.outbox.backoff = Backoff(max_attempts=1)  # retries spent at once
    controls(live_bridge.bridge.engine)["payroll"].inject("http_500", count=1)
    queue(live_bridge, changes[:3])

    outage = run_payroll(live_bridge)
    replay = api(live_bridge, "POST", "/sync/deliveries/replay", json={"job": "payroll"})
    after = run_payroll(live_bridge)

    assert (outage["dead"], outage["error"] is not None) == (3, True)
    assert replay.json() == {"replayed": 3}
    assert (after["claimed"], after["delivered"], after["dead"]) == (3, 3, 0)
    dead = api(live_bridge, "GET", "/sync/deliveries", params={"status": "dead"}).json()
    assert dead["deliveries"] == []
