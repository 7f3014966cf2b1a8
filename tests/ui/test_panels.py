"""What the dashboard shows and does once signed in: upstreams and their circuit breakers, the
jobs, recent runs, dead letters and their replay, a run by hand, and the audit log's filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pybreaker
import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.observability import metrics
from bridge.store.audit import AuditLog, AuditRecord
from tests.common.hr import FakePayroll
from tests.common.ui import UI, Page, dead_letter, get, post_form, state
from tests.credentials import Credentials


@pytest.fixture
def fake_payroll(ui_bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> FakePayroll:
    fake = FakePayroll(batch_size=50)
    monkeypatch.setitem(ui_bridge.sync.deliverers, "payroll", fake)
    return fake


@pytest.fixture
def open_logistics_circuit(ui_bridge: Bridge) -> Iterator[None]:
    breaker = ui_bridge.sync.breakers["logistics"]
    breaker.open()
    yield
    breaker.close()


def test_each_upstream_shows_its_circuit_breaker(
    signed_in: Client, open_logistics_circuit: None
) -> None:
    page = get(signed_in, "/")

    rows = {
        name: page.text(f"//tr[@id='upstream-{name}']/td")
        for name in ("corebank", "payroll", "logistics", "classifier")
    }
    assert rows["logistics"][:3] == ["logistics", "down", "open (re-tried 60 s after opening)"]
    assert rows["payroll"][:5] == [
        "payroll",
        "ok",
        "closed (re-tried 60 s after opening)",
        "0 of 5",
        "payroll",
    ]
    assert rows["corebank"][:4] == [
        "corebank",
        "ok",
        "closed (re-tried 60 s after opening)",
        "0 of 5",
    ]
    assert page.text("//section[@id='upstreams']/p[@class='note']/strong") == ["ok", "ok"]
    assert pybreaker.STATE_OPEN == "open"


def worker_gauges(directory: Path, pid: int, states: dict[str, int]) -> None:
    """What a gunicorn worker's bridge_circuit_breaker_state leaves in the multiprocess folder
    (prometheus-client's file of livemax gauges for that pid)."""
    name = metrics.CIRCUIT_BREAKER_STATE._name
    values = MmapedDict(str(directory / f"gauge_livemax_{pid}.db"))
    try:
        for upstream, state in states.items():
            values.write_value(mmap_key(name, name, ["upstream"], [upstream], ""), state, 0)
    finally:
        values.close()


def test_under_gunicorn_each_circuit_shows_the_worst_state_of_any_worker(
    signed_in: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_gauges(tmp_path, 101, {"corebank": 0, "payroll": 0, "logistics": 0})
    worker_gauges(tmp_path, 102, {"corebank": 2, "payroll": 1, "logistics": 0})
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))

    page = get(signed_in, "/")

    circuits = {
        name: page.text(f"//tr[@id='upstream-{name}']/td")[2].split(" (")[0]
        for name in ("corebank", "payroll", "logistics", "classifier")
    }
    # classifier: no worker reported it, so this process's own breaker
    assert circuits == {
        "corebank": "open",
        "payroll": "half-open",
        "logistics": "closed",
        "classifier": "closed",
    }
    assert page.text("//tr[@id='upstream-corebank']/td")[1] == "down"


def test_dead_letters_are_listed_with_their_reason_and_a_replay_button(
    signed_in: Client, ui_bridge: Bridge
) -> None:
    delivery_id = dead_letter(ui_bridge, error="rejected by payroll: HOURS_ABOVE_MAXIMUM")

    page = get(signed_in, "/")

    row = page.tree.get_element_by_id(f"dead-{delivery_id}")
    cells = [" ".join(cell.text_content().split()) for cell in row.findall("td")]
    assert cells[:2] == [str(delivery_id), "payroll"]
    assert cells[4] == "rejected by payroll: HOURS_ABOVE_MAXIMUM"
    [form] = row.xpath(".//form")
    assert form.get("method") == "post"
    assert form.get("action") == f"{UI}/deliveries/{delivery_id}/replay"


def test_replay_puts_the_dead_letter_back_in_its_queue_and_is_audited(
    signed_in: Client, ui_bridge: Bridge, operator: Credentials, audit: AuditLog
) -> None:
    delivery_id = dead_letter(ui_bridge)

    replayed = post_form(signed_in, f"/deliveries/{delivery_id}/replay", {})
    page = get(signed_in, f"/deliveries/{delivery_id}")

    assert replayed.response.status_code == 303
    assert replayed.response.location == f"{UI}/deliveries/{delivery_id}"
    assert state(ui_bridge, delivery_id) == "pending"
    assert page.text("//*[@id='delivery-status']") == ["pending"]
    assert f"Delivery {delivery_id} (payroll" in page.text("//p[@role='status']")[0]
    assert get(signed_in, "/").tree.xpath(f"//tr[@id='dead-{delivery_id}']") == []
    audit.flush()
    [entry] = audit.query(client_id=operator.client.id, interface="ui", limit=1)
    assert (entry.operation, entry.resource_id, entry.outcome) == (
        "replay_delivery",
        str(delivery_id),
        "ok",
    )


def test_replaying_a_delivery_that_is_not_dead_says_so(
    signed_in: Client, ui_bridge: Bridge
) -> None:
    delivery_id = dead_letter(ui_bridge)
    post_form(signed_in, f"/deliveries/{delivery_id}/replay", {})

    again = post_form(signed_in, f"/deliveries/{delivery_id}/replay", {})
    page = get(signed_in, f"/deliveries/{delivery_id}")

    assert again.response.status_code == 303
    assert page.text("//p[@role='status']") == [
        f"Delivery {delivery_id} is pending, not dead: only dead letters are replayed."
    ]


def test_run_now_runs_the_job_and_the_replayed_letter_is_delivered(
    signed_in: Client, ui_bridge: Bridge, fake_payroll: FakePayroll
) -> None:
    delivery_id = dead_letter(ui_bridge)
    post_form(signed_in, f"/deliveries/{delivery_id}/replay", {})
    back = f"{UI}/deliveries/{delivery_id}"

    ran = post_form(signed_in, "/jobs/payroll/run", {"back": back}, from_page=back[len(UI) :])
    page = get(signed_in, f"/deliveries/{delivery_id}")

    assert ran.response.location == back
    assert state(ui_bridge, delivery_id) == "delivered"
    assert page.text("//*[@id='delivery-status']") == ["delivered"]
    assert page.text("//p[@role='status']")[0].startswith("Run ")
    newest = get(signed_in, "/").text("//section[@id='runs']//tbody/tr[1]/td")
    assert newest[1:3] == ["payroll", "ui"]


def test_a_run_of_an_unknown_job_is_not_found(signed_in: Client) -> None:
    assert post_form(signed_in, "/jobs/nosuchjob/run", {}).response.status_code == 404


def test_an_unknown_delivery_is_not_found(signed_in: Client) -> None:
    page = get(signed_in, "/deliveries/999999")

    assert page.response.status_code == 404
    assert "There is no delivery 999999." in page.response.get_data(as_text=True)


def test_jobs_show_their_queue_and_schedule(signed_in: Client) -> None:
    page = get(signed_in, "/")

    assert [job.get("id") for job in page.tree.xpath("//article[@class='job']")] == [
        "job-classification",
        "job-payroll",
        "job-shipments",
    ]
    assert page.text("//*[@id='job-payroll']//p[@class='queue']/span[5]/code") == ["*/15 * * * *"]


def test_the_window_of_the_charts_is_an_hour_or_a_day(signed_in: Client) -> None:
    hour = get(signed_in, "/")
    day = get(signed_in, "/", window="24h")

    def points(page: Page) -> int:
        return len(page.tree.xpath("//*[@id='job-payroll']//*[@data-depth]"))

    assert (points(hour), points(day)) == (61, 97)
    assert hour.tree.xpath("//meta[@http-equiv='refresh']") == []
    refreshing = get(signed_in, "/", refresh="1")
    assert refreshing.tree.xpath("//meta[@http-equiv='refresh']/@content") == ["30"]


@pytest.fixture(scope="module")
def audit_records(audit: AuditLog) -> list[AuditRecord]:
    """Three records far in the past, so no other test's records fall between them."""
    at = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)
    records = [
        AuditRecord(
            at=at,
            client_id="cl_aaaaaaaaaaaaaaaa",
            tier="partner",
            interface="rest",
            operation="POST /api/v1/transfers",
            outcome="ok",
            status="201",
        ),
        AuditRecord(
            at=at + timedelta(minutes=1),
            client_id="cl_bbbbbbbbbbbbbbbb",
            tier="public",
            interface="soap",
            operation="TransferFunds",
            outcome="denied",
            status="soap:Client",
            detail="this operation is for partner, private clients",
        ),
        AuditRecord(
            at=at + timedelta(minutes=2),
            client_id="cl_aaaaaaaaaaaaaaaa",
            tier="partner",
            interface="soap",
            operation="GetTransferStatus",
            outcome="not_found",
            status="soap:Client",
        ),
    ]
    for record in records:
        audit.record(record)
    audit.flush()
    return records


@pytest.mark.parametrize(
    ("filters", "operations"),
    [
        ({}, ["GetTransferStatus", "TransferFunds", "POST /api/v1/transfers"]),
        ({"client_id": "cl_aaaaaaaaaaaaaaaa"}, ["GetTransferStatus", "POST /api/v1/transfers"]),
        ({"outcome": "denied"}, ["TransferFunds"]),
        ({"interface": "soap"}, ["GetTransferStatus", "TransferFunds"]),
        ({"since": "2001-02-03T04:06"}, ["GetTransferStatus", "TransferFunds"]),
        ({"until": "2001-02-03T04:06"}, ["POST /api/v1/transfers"]),
    ],
)
def test_audit_records_are_filtered_by_client_outcome_interface_and_time(
    signed_in: Client,
    audit_records: list[AuditRecord],
    filters: dict[str, str],
    operations: list[str],
) -> None:
    query = {"until": "2001-02-04T00:00", **filters}

    page = get(signed_in, "/audit", **query)

    assert page.text("//section[@id='audit']//tbody/tr/td[5]") == operations


def test_a_filter_that_does_not_parse_is_named_and_not_applied(
    signed_in: Client, audit_records: list[AuditRecord]
) -> None:
    page = get(signed_in, "/audit", outcome="sideways", until="yesterday", client_id="cl_b")

    problems = page.text("//p[@class='flash error']")
    assert [p.split(":")[1].strip().split()[0] for p in problems] == ["until", "outcome"]
    assert page.text("//p[@id='no-audit']") == ["No audit records match these filters."]
