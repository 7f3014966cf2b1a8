"""/metrics the way operators scrape it: `bridge serve --workers 2`, every family counted.

The in-process tests cannot see an import-order bug of `bridge serve` (prometheus-client read
PROMETHEUS_MULTIPROC_DIR before the serve command set it, and every worker counted in memory
while /metrics read an empty folder): this one runs the real command.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from tests.credentials import Credentials, grant, scraper
from tests.served import Served, bridge_serve

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[1] / "data"
README = Path(__file__).parents[2] / "README.md"


def readme_families() -> set[str]:
    """Every family the README's "Logs and metrics" section names, as its samples are named."""
    text = README.read_text()
    section = text[text.index("## Logs and metrics") :]
    section = section[: section.index("\n## ", 1)]
    return set(re.findall(r"\bbridge_[a-z_]+\b", section))


@pytest.fixture(scope="module")
def served_engine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Served, Engine]]:
    workdir = tmp_path_factory.mktemp("metrics")
    with (
        bridge_serve(workdir, {"BRIDGE_WORKERS": "2", "BRIDGE_THREADS": "4"}) as bridge,
        bridge.database() as engine,
    ):
        yield bridge, engine


@pytest.fixture(scope="module")
def served(served_engine: tuple[Served, Engine]) -> tuple[Served, Credentials]:
    bridge, engine = served_engine
    return bridge, grant(engine)


def _scrape(
    url: str, credentials: Credentials
) -> dict[str, dict[str, list[tuple[dict[str, str], float]]]]:
    """{family: {sample name: [(labels, value)]}} of one GET /metrics."""
    response = requests.get(f"{url}/metrics", headers=credentials.headers, timeout=10)
    assert response.status_code == 200, response.text
    text = response.text
    found: dict[str, dict[str, list[tuple[dict[str, str], float]]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(family.name, {}).setdefault(sample.name, []).append(
                (sample.labels, sample.value)
            )
    return found


def _sum(samples: dict[str, list[tuple[dict[str, str], float]]], **labels: str) -> float:
    """The sum of a counter family's `_total` samples with these labels."""
    return sum(
        value
        for name, found in samples.items()
        if name.endswith("_total")
        for sample_labels, value in found
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )


def _transfer(url: str, credentials: Credentials) -> requests.Response:
    body = json.loads((DATA / "rest" / "transfer_request.json").read_text())
    body["msg_id"] = f"MET-{uuid.uuid4().hex[:12]}"
    return requests.post(
        f"{url}/api/v1/transfers", json=body, headers=credentials.headers, timeout=30
    )


def test_every_family_has_samples_summed_over_both_workers(
    served: tuple[Served, Credentials],
) -> None:
    bridge, credentials = served
    url = bridge.url
    transfers = [_transfer(url, credentials) for _ in range(6)]
    assert all(r.status_code == 201 for r in transfers), [r.text for r in transfers]
    soap = requests.post(
        f"{url}/soap/banking",
        data=(DATA / "soap" / "requests" / "get_transfer_status.xml").read_bytes(),
        headers={
            **credentials.headers,
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"GetTransferStatus"',
        },
        timeout=30,
    )
    assert soap.status_code in (200, 500), soap.text  # answered: a status or a Client fault
    refused = requests.get(
        f"{url}/api/v1/transfers/X", headers={"Authorization": "Bearer not-a-token"}, timeout=10
    )
    assert refused.status_code == 401
    run = requests.post(
        f"{url}/api/v1/sync/jobs/payroll/runs", headers=credentials.headers, timeout=60
    )
    assert run.status_code == 201, run.text

    families = _scrape(url, credentials)

    samples = {name for family in families.values() for name in family}
    named = readme_families()
    assert len(named) >= 15, named
    # A histogram's samples are its _bucket, _count and _sum.
    missing = sorted(
        name for name in named if not any(s == name or s.startswith(name + "_") for s in samples)
    )
    assert not missing, f"families the README lists without samples under bridge serve: {missing}"
    requests_ = families["bridge_requests"]
    # Each request counted once, whichever of the two workers answered it.
    assert _sum(requests_, door="rest", operation="POST /api/v1/transfers", outcome="2xx") == 6
    assert _sum(requests_, door="soap", operation="GetTransferStatus") == 1
    assert _sum(families["bridge_upstream_calls"], upstream="corebank", outcome="ok") >= 6
    assert _sum(families["bridge_auth_failures"], door="rest") >= 1
    assert _sum(families["bridge_job_runs"], job="payroll") >= 1


def test_counts_accumulate_across_scrapes_and_workers(served: tuple[Served, Credentials]) -> None:
    bridge, credentials = served
    before = _sum(
        _scrape(bridge.url, credentials)["bridge_requests"], operation="GET /api/v1/sync/jobs"
    )
    for _ in range(20):  # a new connection each: the two workers take turns accepting
        assert (
            requests.get(
                f"{bridge.url}/api/v1/sync/jobs", headers=credentials.headers, timeout=10
            ).status_code
            == 200
        )
    after = _sum(
        _scrape(bridge.url, credentials)["bridge_requests"], operation="GET /api/v1/sync/jobs"
    )
    assert after - before == 20


def test_only_a_client_holding_metrics_read_may_scrape(
    served_engine: tuple[Served, Engine],
) -> None:
    bridge, engine = served_engine
    url = f"{bridge.url}/metrics"
    prometheus = scraper(engine)
    bank = grant(engine, tier="partner", scopes={"transfers:read"}, name="a bank")
    operator = grant(engine, scopes={"sync:admin"}, name="an operator")

    anonymous = requests.get(url, timeout=10)
    wrong_token = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    partner = requests.get(url, headers=bank.headers, timeout=10)
    other_scope = requests.get(url, headers=operator.headers, timeout=10)

    for refused in (anonymous, wrong_token):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert "bridge_" not in refused.text
    for refused, why in ((partner, "private clients"), (other_scope, "metrics:read")):
        assert refused.status_code == 403
        assert why in refused.json()["error"]
        assert "bridge_" not in refused.text
    families = _scrape(bridge.url, prometheus)
    # each refusal counted where operators look for guessing: at the door it came through
    failures = families["bridge_auth_failures"]
    assert _sum(failures, door="ops", reason="missing") >= 1
    assert _sum(failures, door="ops", reason="invalid") >= 1
