"""Core banking's circuit breaker on the dashboard of the real `bridge serve --workers 2`.

Each gunicorn worker has its own breakers; the page one worker draws must show the state of
every worker (bridge_circuit_breaker_state, livemax, read from the multiprocess files). Core
banking is made to fail (the simulator's fault injection, through the admin-only `/sims`
mount) until one worker's breaker opens; every page then shows `open`, also the pages drawn by
the other worker, whose own breaker is still closed (its failure count is below the maximum).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from lxml import html
from prometheus_client.parser import text_string_to_metric_families

from tests.credentials import Credentials, grant, scraper, simulator_admin
from tests.served import Served, bridge_serve

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[1] / "data"
FAIL_MAX = 5  # bridge.upstream.breakers.FAIL_MAX, as the page shows it ("n of 5")
# Pages to ask for, each on a new connection, until one comes from the worker whose breaker
# stayed closed (the workers take turns accepting); a bound, not a timing.
PAGES = 40


@dataclass
class Bridge:
    served: Served
    bank: Credentials
    operator: Credentials
    admin: Credentials
    prometheus: Credentials


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    workdir = tmp_path_factory.mktemp("circuit")
    with bridge_serve(workdir, {"BRIDGE_WORKERS": "2", "BRIDGE_THREADS": "4"}) as served:
        with served.database() as engine:
            clients = Bridge(
                served,
                bank=grant(engine, tier="partner", organisation="bank-a", name="bank a"),
                operator=grant(engine, scopes={"sync:admin"}, name="Ops Olga"),
                admin=simulator_admin(engine),
                prometheus=scraper(engine),
            )
        yield clients


def transfer(bridge: Bridge) -> requests.Response:
    body = json.loads((DATA / "rest" / "transfer_request.json").read_text())
    body["msg_id"] = f"CIRC-{uuid.uuid4().hex[:12]}"
    return requests.post(
        f"{bridge.served.url}/api/v1/transfers",
        json=body,
        headers={**bridge.bank.headers, "Connection": "close"},
        timeout=60,
    )


def corebank_gauge(bridge: Bridge) -> float:
    text = requests.get(
        f"{bridge.served.url}/metrics", headers=bridge.prometheus.headers, timeout=10
    ).text
    [value] = [
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "bridge_circuit_breaker_state"
        for sample in family.samples
        if sample.labels.get("upstream") == "corebank"
    ]
    return value


def signed_in(bridge: Bridge) -> requests.Session:
    session = requests.Session()
    login = session.get(f"{bridge.served.url}/ui/login", timeout=10)
    [token] = html.fromstring(login.text).xpath("//input[@name='csrf_token']/@value")
    answer = session.post(
        f"{bridge.served.url}/ui/login",
        data={
            "csrf_token": token,
            "client_id": bridge.operator.client.id,
            "client_secret": bridge.operator.secret,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    return session


def corebank_row(session: requests.Session, bridge: Bridge) -> list[str]:
    """Health, circuit and failures of core banking's row, from a page on a new connection."""
    page = session.get(f"{bridge.served.url}/ui/", headers={"Connection": "close"}, timeout=30)
    assert page.status_code == 200, page.text
    cells = html.fromstring(page.text).xpath("//tr[@id='upstream-corebank']/td")
    return [" ".join(cell.text_content().split()) for cell in cells][1:4]


def test_core_banking_circuit_closed_then_open_as_every_worker_sees_it(bridge: Bridge) -> None:
    assert all(transfer(bridge).status_code == 201 for _ in range(4))
    session = signed_in(bridge)
    health, circuit, _ = corebank_row(session, bridge)
    assert (health, circuit.split(" (")[0]) == ("ok", "closed")
    assert corebank_gauge(bridge) == 0

    injected = requests.post(
        f"{bridge.served.url}/sims/corebank/_control/faults",
        json={"kind": "http_500", "count": 1000},
        headers=bridge.admin.headers,
        timeout=10,
    )
    assert injected.status_code == 201, injected.text
    # Three failed calls per transfer (PostPayment, then two looks): the second transfer one
    # worker takes opens its breaker. Stop there, so the other worker's stays closed.
    for _ in range(2 * FAIL_MAX):
        assert transfer(bridge).status_code == 503
        if corebank_gauge(bridge) == 2:
            break
    assert corebank_gauge(bridge) == 2

    rows = []
    for _ in range(PAGES):
        rows.append(corebank_row(session, bridge))
        if int(rows[-1][2].split(" of ")[0]) < FAIL_MAX:
            break  # drawn by the worker whose own breaker is closed
    assert all((health, circuit.split(" (")[0]) == ("down", "open") for health, circuit, _ in rows)
    assert int(rows[-1][2].split(" of ")[0]) < FAIL_MAX, (
        f"no page of {PAGES} came from the worker with a closed breaker: {rows}"
    )
