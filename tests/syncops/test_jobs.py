"""/api/v1/sync/jobs: what the jobs are, how they ran, and running one now."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.rest.cursor import encode_after
from bridge.store.tables import job_runs
from bridge.sync import scheduler
from tests.common.hr import FakePayroll, make_dead, queue_changes
from tests.common.rest import assert_problem, post_json

RUNS = "/api/v1/sync/jobs/payroll/runs"
SHIPMENTS_CURSOR = encode_after(datetime(2026, 1, 1, tzinfo=UTC), "SHP-2026-000001")


def run_count(bridge: Bridge) -> int:
    with bridge.engine.connect() as connection:
        count: int = connection.execute(select(func.count()).select_from(job_runs)).scalar_one()
    return count


def test_jobs_list_every_job_with_its_schedule_queue_circuit_and_last_runs(
    client: Client, sync_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    ids = queue_changes(sync_bridge)
    make_dead(sync_bridge, ids[3])
    sync_bridge.sync.run("payroll", max_batches=1)

    response = client.get("/api/v1/sync/jobs")

    assert response.status_code == 200
    jobs = {job["name"]: job for job in response.get_json()["jobs"]}
    assert set(jobs) == set(sync_bridge.sync.deliverers)
    payroll = jobs["payroll"]
    assert payroll["schedule"] == "*/5 * * * *"
    assert payroll["scheduled"] is False
    assert (payroll["topic"], payroll["upstream"], payroll["batch_size"]) == (
        "payroll",
        "payroll",
        2,
    )
    assert payroll["circuit"] == "closed"
    assert payroll["running"] is False
    assert payroll["queue"] == {"pending": 1, "claimed": 0, "delivered": 2, "dead": 1}
    [run] = payroll["last_runs"]
    assert (run["job"], run["trigger"], run["claimed"], run["delivered"]) == (
        "payroll",
        "manual",
        2,
        2,
    )


def test_one_job_is_read_by_its_name(client: Client) -> None:
    response = client.get("/api/v1/sync/jobs/payroll")

    assert response.status_code == 200
    assert response.get_json()["name"] == "payroll"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/sync/jobs/nightly"),
        ("GET", "/api/v1/sync/jobs/nightly/runs"),
        ("POST", "/api/v1/sync/jobs/nightly/runs"),
    ],
)
def test_an_unknown_job_is_404(client: Client, method: str, url: str) -> None:
    problem = assert_problem(client.open(url, method=method), 404, "not-found")

    assert "payroll" in problem["detail"]


def test_a_job_name_that_cannot_be_one_is_400(client: Client) -> None:
    problem = assert_problem(client.get("/api/v1/sync/jobs/Pay-Roll"), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "job"


def test_run_now_drains_the_queue_and_answers_the_ended_run(
    client: Client, sync_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    queue_changes(sync_bridge)
    fake_payroll.rejected.add("HR-REC-0004")

    response = client.post(RUNS)

    assert response.status_code == 201, response.get_data(as_text=True)
    run = response.get_json()
    assert (run["job"], run["trigger"], run["node"]) == ("payroll", "api", sync_bridge.sync.node)
    assert (run["claimed"], run["delivered"], run["retried"], run["dead"]) == (4, 3, 0, 1)
    assert run["error"] is None
    assert run["ended_at"] >= run["started_at"]
    assert response.headers["Location"] == f"{RUNS}/{run['id']}"
    assert client.get(response.headers["Location"]).get_json() == run


def test_run_now_with_batches_stops_after_that_many(
    client: Client, sync_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    queue_changes(sync_bridge)

    run = post_json(client, RUNS, {"batches": 1}).get_json()

    assert (run["claimed"], run["delivered"]) == (2, 2)
    assert client.get("/api/v1/sync/jobs/payroll").get_json()["queue"]["pending"] == 2


@pytest.mark.parametrize(
    ("body", "path"), [({"batches": 0}, "batches"), ({"batchez": 1}, "batchez")]
)
def test_run_now_with_a_bad_body_is_400_and_runs_nothing(
    client: Client, sync_bridge: Bridge, body: dict[str, Any], path: str
) -> None:
    problem = assert_problem(post_json(client, RUNS, body), 400, "mapping-error")

    assert problem["errors"][0]["path"] == path
    assert run_count(sync_bridge) == 0


def test_run_now_while_this_process_runs_the_job_is_409(
    client: Client, sync_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    queue_changes(sync_bridge)
    fake_payroll.go_on.clear()
    first = threading.Thread(target=sync_bridge.sync.run, args=("payroll",))
    first.start()
    try:
        assert fake_payroll.inside.wait(timeout=10)

        problem = assert_problem(client.post(RUNS), 409, "conflict")
        running = client.get("/api/v1/sync/jobs/payroll").get_json()["running"]
    finally:
        fake_payroll.go_on.set()
        first.join(timeout=30)

    assert "already going" in problem["detail"]
    assert running is True
    assert run_count(sync_bridge) == 1
    assert client.post(RUNS).status_code == 201  # once it has ended, a run is welcome again


def test_a_scheduled_run_while_another_run_is_going_is_skipped(
    sync_bridge: Bridge, fake_payroll: FakePayroll, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "_engine", sync_bridge.sync)
    queue_changes(sync_bridge)
    fake_payroll.go_on.clear()
    first = threading.Thread(target=sync_bridge.sync.run, args=("payroll",))
    first.start()
    try:
        assert fake_payroll.inside.wait(timeout=10)
        scheduler.run_scheduled_job("payroll")
    finally:
        fake_payroll.go_on.set()
        first.join(timeout=30)

    assert run_count(sync_bridge) == 1


def test_runs_are_listed_newest_first_a_page_at_a_time(
    client: Client, sync_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    for _ in range(3):
        sync_bridge.sync.run("payroll")

    first = client.get(RUNS, query_string={"limit": 2}).get_json()
    second = client.get(RUNS, query_string={"limit": 2, "cursor": first["next_cursor"]}).get_json()

    ids = [run["id"] for run in first["runs"] + second["runs"]]
    assert ids == [3, 2, 1]
    assert first["next_cursor"] is not None
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        SHIPMENTS_CURSOR,  # a list keyed by shipment references, not by ids
        encode_after(datetime(2026, 1, 1, tzinfo=UTC), "²"),  # a digit, but no id
        encode_after(datetime(2026, 1, 1, tzinfo=UTC), str(2**63)),  # beyond any BIGINT
        "eyJ2IjoxLCJrIjoiZGVsaXZlcmllcyIsImkiOjN9",  # of another codec: {"v":1,"k":...,"i":3}
    ],
)
def test_a_cursor_that_is_not_one_of_this_list_is_400(client: Client, cursor: str) -> None:
    problem = assert_problem(
        client.get(RUNS, query_string={"cursor": cursor}), 400, "mapping-error"
    )

    assert problem["errors"][0]["path"] == "cursor"


def test_a_run_is_read_only_under_its_own_job(
    client: Client, sync_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    sync_bridge.sync.run("payroll")

    assert client.get(f"{RUNS}/1").status_code == 200
    assert_problem(client.get("/api/v1/sync/jobs/classification/runs/1"), 404, "not-found")
    assert_problem(client.get(f"{RUNS}/99"), 404, "not-found")
