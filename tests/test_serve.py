"""`bridge serve` as a user runs it: the real command (tests/served.py), gunicorn, a loopback port,
the embedded default (one worker of 8 threads, SQLite, simulators, scheduler on)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from sqlalchemy import Engine, select
from zeep.helpers import serialize_object
from zeep.transports import Transport

from bridge.store.audit_tables import audit_log
from tests.credentials import Credentials, grant, simulator_admin
from tests.served import BRIDGE, Served, bridge_serve

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples"
UPSTREAMS = ("corebank", "payroll", "logistics", "classifier")
CONCURRENT = 64  # callers at once: 8 times the worker's threads
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"ValidateAccount"'}

pytestmark = pytest.mark.slow


@dataclass
class ServedBridge:
    served: Served
    engine: Engine  # the served bridge's own database, for credentials and its audit log
    admin: Credentials  # a private client holding simulators:admin

    @property
    def url(self) -> str:
        return self.served.url


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedBridge]:
    """`bridge serve` with its default settings in a temporary directory (SQLite under var/)."""
    workdir = tmp_path_factory.mktemp("serve")
    with bridge_serve(workdir, {"BRIDGE_SCHEDULER": "true"}) as served, served.database() as engine:
        yield ServedBridge(served, engine, simulator_admin(engine))


def test_serve_answers_health_and_is_ready_on_the_embedded_default(bridge: ServedBridge) -> None:
    assert requests.get(f"{bridge.url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{bridge.url}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"] == "ok"
    assert checks["simulators"] == [f"/sims/{name}" for name in sorted(UPSTREAMS)]
    assert (bridge.served.workdir / "var" / "bridge.db").exists()


def test_concurrent_transfers_beyond_the_thread_pool_are_all_posted_once(
    bridge: ServedBridge,
) -> None:
    """The worker's threads call core banking on the worker's own simulator server, never on a
    thread of their own pool: 64 callers on 8 threads all get their transfer."""
    caller = grant(bridge.engine, tier="partner", organisation="bank-64", name="bank 64")
    template = json.loads((DATA / "rest" / "transfer_request.json").read_text("utf-8"))
    msg_ids = [f"SERVE-64-{n:03d}" for n in range(CONCURRENT)]
    start = threading.Barrier(CONCURRENT)
    answers: dict[str, requests.Response] = {}

    def transfer(msg_id: str) -> None:
        start.wait()
        answers[msg_id] = requests.post(
            f"{bridge.url}/api/v1/transfers",
            json={**template, "msg_id": msg_id},
            headers=caller.headers,
            timeout=60,
        )

    threads = [threading.Thread(target=transfer, args=(msg_id,)) for msg_id in msg_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {m: a.status_code for m, a in answers.items()} == dict.fromkeys(msg_ids, 201)
    tx_ids = {answers[m].json()["tx_id"] for m in msg_ids}
    assert {answers[m].json()["status"] for m in msg_ids} == {"ACSC"}
    calls = control(bridge, "corebank", "calls?operation=PostPayment")["calls"]
    posted = Counter(c["idempotency_key"] for c in calls if not c["duplicate"])
    assert {tx: posted[tx] for tx in tx_ids} == dict.fromkeys(tx_ids, 1)
    payments = control(bridge, "corebank", "effects?scope=payment")["effects"]
    applied = Counter(e["idempotency_key"] for e in payments)
    assert {tx: applied[tx] for tx in tx_ids} == dict.fromkeys(tx_ids, 1)


def control(bridge: ServedBridge, simulator: str, route: str) -> Any:
    """GET a control route of a simulator, as its admin."""
    response = requests.get(
        f"{bridge.url}/sims/{simulator}/_control/{route}", headers=bridge.admin.headers, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


# -- who may reach the simulators ----------------------------------------------------------------

SOAP_CALL = (SAMPLES / "corebank" / "validate_account__iban.xml").read_bytes()
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    + etree.tostring(etree.fromstring(SOAP_CALL))
    + b"</soap:Body></soap:Envelope>"
)
# (method, path, body, extra headers, the admin's answer): every kind of thing under /sims.
DOORS = {
    "wsdl": ("GET", "/sims/corebank?wsdl", None, {}, 200),
    "soap call": ("POST", "/sims/corebank", ENVELOPE, SOAP_HEADERS, 200),
    "control read": ("GET", "/sims/corebank/_control/state", None, {}, 200),
    "control write": ("DELETE", "/sims/payroll/_control/faults", None, {}, 200),
    "page": ("GET", "/sims/logistics/labels/CP0000NOBODY", None, {}, 404),  # nobody booked it
}


def knock(bridge: ServedBridge, door: str, headers: dict[str, str]) -> requests.Response:
    method, path, body, extra, _ = DOORS[door]
    return requests.request(
        method, f"{bridge.url}{path}", data=body, headers={**extra, **headers}, timeout=30
    )


@pytest.mark.parametrize("door", sorted(DOORS))
def test_simulators_refuse_callers_without_credentials(bridge: ServedBridge, door: str) -> None:
    anonymous = knock(bridge, door, {})
    wrong_key = knock(bridge, door, {"X-API-Key": "bk_nobody_0000000000000000"})

    assert (anonymous.status_code, wrong_key.status_code) == (401, 401)
    assert "credentials are required" in anonymous.json()["error"]
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("door", sorted(DOORS))
def test_simulators_refuse_clients_without_the_admin_tier_and_scope(
    bridge: ServedBridge, door: str
) -> None:
    partner = grant(bridge.engine, tier="partner", scopes={"simulators:admin"})
    operator = grant(bridge.engine, scopes={"sync:admin", "clients:admin"})

    refused = [knock(bridge, door, who.headers) for who in (partner, operator)]

    assert [r.status_code for r in refused] == [403, 403]
    assert "private" in refused[0].json()["error"]
    assert "simulators:admin" in refused[1].json()["error"]


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_simulator_admin_gets_through(bridge: ServedBridge, door: str) -> None:
    answered = knock(bridge, door, bridge.admin.headers)

    assert answered.status_code == DOORS[door][-1], answered.text


def test_an_anonymous_fault_injection_queues_nothing(bridge: ServedBridge) -> None:
    refused = requests.post(
        f"{bridge.url}/sims/corebank/_control/faults", json={"kind": "http_500"}, timeout=30
    )

    assert refused.status_code == 401
    assert control(bridge, "corebank", "faults") == {"faults": []}


def test_refusals_at_the_simulators_are_in_the_audit_log(bridge: ServedBridge) -> None:
    partner = grant(bridge.engine, tier="partner", scopes={"simulators:admin"})
    knock(bridge, "control read", {})
    knock(bridge, "control read", partner.headers)

    outcomes = audited_outcomes(bridge.engine, want={"unauthenticated", "denied"})

    assert {"unauthenticated", "denied"} <= outcomes


def audited_outcomes(engine: Engine, want: set[str], wait: float = 15) -> set[str]:
    """The outcomes of the audit records of interface "sims", once `want` are among them or
    `wait` seconds passed (the served bridge writes its audit log about once a second)."""
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as connection:
            found = set(
                connection.execute(
                    select(audit_log.c.outcome).where(audit_log.c.interface == "sims")
                ).scalars()
            )
        if want <= found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


# -- the simulators as zeep sees them ------------------------------------------------------------


def _sample_requests(contract: str) -> dict[str, Path]:
    """One sample request document per operation, by root element name."""
    found: dict[str, Path] = {}
    for sample in sorted((SAMPLES / contract).glob("*.xml")):
        root = etree.QName(etree.parse(str(sample)).getroot()).localname
        if not root.endswith("Response"):
            found.setdefault(root, sample)
    return found


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_zeep_loads_each_simulator_wsdl_from_the_server_and_calls_every_operation(
    bridge: ServedBridge, upstream: str
) -> None:
    session = requests.Session()
    session.headers.update(bridge.admin.headers)
    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=False)
    client = zeep.Client(
        f"{bridge.url}/sims/{upstream}?wsdl",
        transport=Transport(session=session, timeout=10, operation_timeout=10),
        settings=settings,
    )
    (binding,) = client.wsdl.bindings.values()
    samples = _sample_requests(upstream)
    operations = sorted(binding._operations)
    assert operations
    assert set(operations) <= set(samples), (operations, sorted(samples))
    for operation in operations:
        element = client.get_element(f"{{{binding.name.namespace}}}{operation}")
        document = etree.parse(str(samples[operation])).getroot()
        arguments = serialize_object(element.parse(document, client.wsdl.types), dict)
        reply = getattr(client.service, operation)(**arguments)
        assert reply is not None, f"{upstream}.{operation} answered nothing"


# -- when the simulators are off -----------------------------------------------------------------


def test_a_non_loopback_host_serves_without_simulators_and_says_so(tmp_path: Path) -> None:
    elsewhere = {f"BRIDGE_{name.upper()}_URL": f"http://upstream.test/{name}" for name in UPSTREAMS}
    with bridge_serve(tmp_path, elsewhere, "--host", "0.0.0.0") as served:
        ready = requests.get(f"{served.url}/readyz", timeout=5).json()
        wsdl = requests.get(f"{served.url}/sims/corebank?wsdl", timeout=5)

    assert ready["checks"]["simulators"] == "off"
    assert wsdl.status_code == 404
    assert "Simulators off (host 0.0.0.0 is not loopback" in served.output
    assert "simulator corebank" not in served.output


def test_serve_stops_naming_the_upstream_url_the_simulators_would_have_answered(
    tmp_path: Path,
) -> None:
    others = {f"BRIDGE_{name.upper()}_URL": f"http://upstream.test/{name}" for name in UPSTREAMS}
    others["BRIDGE_COREBANK_URL"] = ""
    environment = {**os.environ, **others, "BRIDGE_SIMULATORS": "false"}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)

    stopped = subprocess.run(
        [str(BRIDGE), "serve"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert stopped.returncode == 2
    assert "simulators are off (simulators = false)" in stopped.stderr
    assert "corebank_url (BRIDGE_COREBANK_URL)" in stopped.stderr
    assert "payroll_url" not in stopped.stderr
    assert not (tmp_path / "var").exists()  # stopped before touching anything
