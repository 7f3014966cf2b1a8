"""/metrics in Prometheus format: every door, upstream and sync job counted, with bounded labels.

The counters are process-wide and other tests in this process count too, so these tests look
for label sets and for differences, never for absolute numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bridge.observability import metrics
from tests.common.hr import employee_changes
from tests.common.live import LiveBridge, serve_bridge
from tests.common.partner_bank import CREDITOR, partner, post_raw
from tests.credentials import Credentials, grant, scraper

pytestmark = pytest.mark.slow

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(live: LiveBridge, credentials: Credentials | None = None) -> Samples:
    """{sample name: [(labels, value)]} of one GET /metrics (as `credentials`, or as the live
    bridge's default client)."""
    headers = {} if credentials is None else credentials.headers
    response = requests.get(f"{live.url}/metrics", headers=headers, timeout=15)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    for found, sample_value in samples.get(name, []):
        if all(found.get(key) == wanted for key, wanted in labels.items()):
            return sample_value
    return None


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {found[label] for found, _ in samples.get(name, []) if label in found}


def test_rest_soap_and_sync_traffic_shows_in_every_family(live_bridge: LiveBridge) -> None:
    verification = requests.post(
        f"{live_bridge.url}/api/v1/accounts/{CREDITOR}/verification",
        json={"name": "Jürgen Großmann"},
        timeout=30,
    )
    assert verification.status_code == 200, verification.text
    partner(live_bridge).service.VerifyAccount(Acct={"IBAN": CREDITOR}, Nm="Jürgen Großmann")
    live_bridge.bridge.hr.record_changes(employee_changes())
    live_bridge.bridge.sync.run("payroll")
    # The bridge calls its simulators on their own loopback server (counted as upstream calls);
    # the public /sims mount is a door of its own, for simulator admins.
    wsdl = requests.get(f"{live_bridge.url}/sims/corebank?wsdl", timeout=30)
    assert wsdl.status_code == 200, wsdl.text

    samples = scrape(live_bridge)

    rest = "POST /api/v1/accounts/<account>/verification"
    assert value(samples, "bridge_requests_total", door="rest", operation=rest, outcome="2xx")
    assert value(samples, "bridge_request_seconds_count", door="rest", operation=rest)
    assert value(
        samples, "bridge_requests_total", door="soap", operation="VerifyAccount", outcome="2xx"
    )
    assert value(samples, "bridge_request_seconds_bucket", door="soap", le="+Inf")
    assert value(samples, "bridge_requests_total", door="sims", operation="wsdl", outcome="2xx")
    assert value(
        samples,
        "bridge_upstream_calls_total",
        upstream="corebank",
        operation="ValidateAccount",
        outcome="ok",
    )
    assert value(samples, "bridge_upstream_seconds_count", upstream="payroll")
    assert value(samples, "bridge_circuit_breaker_state", upstream="payroll") == 0
    assert value(samples, "bridge_job_runs_total", job="payroll", outcome="ok")
    assert value(samples, "bridge_job_run_seconds_count", job="payroll")
    assert value(samples, "bridge_outbox_rows", job="payroll", status="delivered")
    assert value(samples, "bridge_dead_letters", job="payroll") is not None
    for door in ("rest", "soap"):
        assert value(samples, "bridge_rate_limited_total", door=door) is not None
        assert value(samples, "bridge_auth_failures_total", door=door, reason="invalid") is not None


def test_the_metrics_scrape_itself_is_counted_as_ops(live_bridge: LiveBridge) -> None:
    scrape(live_bridge)
    samples = scrape(live_bridge)
    assert value(samples, "bridge_requests_total", door="ops", operation="GET /metrics")


def test_unmatched_paths_add_no_label_values(live_bridge: LiveBridge) -> None:
    def strays(n: int) -> None:
        assert requests.get(f"{live_bridge.url}/api/v1/nothing/{n}", timeout=15).status_code == 404
        assert requests.get(f"{live_bridge.url}/x{n}", timeout=15).status_code == 404
        post_raw(live_bridge, b"<not-soap/>", f"Invented{n}")

    strays(0)
    before = scrape(live_bridge)
    for n in range(1, 6):
        strays(n)
    after = scrape(live_bridge)

    operations = label_values(after, "bridge_requests_total", "operation")
    assert operations == label_values(before, "bridge_requests_total", "operation")
    assert not any("nothing" in operation or "Invented" in operation for operation in operations)
    unmatched = {"door": "rest", "operation": "unmatched", "outcome": "4xx"}
    assert value(after, "bridge_requests_total", **unmatched) == (
        (value(before, "bridge_requests_total", **unmatched) or 0) + 10
    )
    assert value(after, "bridge_requests_total", door="soap", operation="unknown")


def test_a_soap_refusal_is_counted_as_a_fault(live_bridge: LiveBridge) -> None:
    post_raw(live_bridge, b"<not-soap/>", "TransferFunds")
    samples = scrape(live_bridge)
    assert value(
        samples, "bridge_requests_total", door="soap", operation="TransferFunds", outcome="fault"
    )


def test_outbox_collector_reports_depth_from_the_database(live_bridge: LiveBridge) -> None:
    queued = len(live_bridge.bridge.hr.record_changes(employee_changes()))
    samples = scrape(live_bridge)
    assert value(samples, "bridge_outbox_rows", job="payroll", status="pending") == queued
    assert value(samples, "bridge_outbox_rows", job="shipments", status="pending") == 0
    assert value(samples, "bridge_dead_letters", job="payroll") == 0

    live_bridge.bridge.sync.run("payroll")
    samples = scrape(live_bridge)
    depth = live_bridge.bridge.sync.outbox.depth()["payroll"]
    assert value(samples, "bridge_outbox_rows", job="payroll", status="pending") == 0
    assert value(samples, "bridge_outbox_rows", job="payroll", status="delivered") == depth.get(
        "delivered"
    )
    assert value(samples, "bridge_dead_letters", job="payroll") == depth.get("dead", 0)


def test_an_unavailable_upstream_is_counted_per_upstream(live_bridge: LiveBridge) -> None:
    from bridge.domain.errors import UpstreamUnavailable
    from bridge.upstream.soap import UpstreamTimeout

    def outcome_of(error: Exception) -> str:
        try:
            with metrics.upstream_call("payroll", "UpsertEmployee"):
                raise error
        except Exception:
            pass
        return metrics.upstream_outcome(error)

    assert outcome_of(UpstreamTimeout("payroll", "late")) == "timeout"
    assert outcome_of(UpstreamUnavailable("payroll", "down")) == "unavailable"
    samples = scrape(live_bridge)
    for outcome in ("timeout", "unavailable"):
        assert value(samples, "bridge_upstream_calls_total", upstream="payroll", outcome=outcome)


def test_refused_credentials_and_spent_budgets_are_counted(tmp_path: Path) -> None:
    plans = {"standard": "100/minute", "internal": "unlimited", "tiny": "1/minute"}
    with serve_bridge(
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        default_credentials=False,
        rate_limit_plans=plans,
    ) as live:
        prometheus = scraper(live.bridge.engine)
        before = scrape(live, prometheus)
        tiny = grant(live.bridge.engine, tier="partner", scopes=("transfers:read",), plan="tiny")
        url = f"{live.url}/api/v1/transfers/NO-SUCH-TRANSFER"
        assert requests.get(url, timeout=15).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert requests.get(url, headers=bad, timeout=15).status_code == 401
        assert requests.get(url, headers=tiny.headers, timeout=15).status_code == 404
        assert requests.get(url, headers=tiny.headers, timeout=15).status_code == 429

        after = scrape(live, prometheus)

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert grew("bridge_auth_failures_total", door="rest", reason="missing") == 1
    assert grew("bridge_auth_failures_total", door="rest", reason="invalid") == 1
    assert grew("bridge_rate_limited_total", door="rest") == 1
    read = "GET /api/v1/transfers/<path:id>"
    assert grew("bridge_requests_total", door="rest", operation=read, outcome="4xx") == 4
