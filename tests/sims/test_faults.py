"""Injected faults: each kind serves the next N calls, then the simulator answers normally."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import zeep

from bridge.sims import SimControl
from tests.common.sims import NAMES, SimServer
from tests.sims.messages import BAKERY, batch, document, employee, payment, shipment

_serial = itertools.count()


def _key(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


# One keyed call per simulator, a fresh idempotency key each time.
FIRST_CALL: dict[str, Callable[[Any], Any]] = {
    "corebank": lambda s: s.PostPayment(**payment(_key("F-PAY"), amountMinor=100)),
    "payroll": lambda s: s.SubmitPayrollBatch(Batch=batch(_key("F-BATCH"), employee(_key("F-R")))),
    "logistics": lambda s: s.CreateShipment(ShippingDetails=shipment(_key("F-ORD"))),
    "classifier": lambda s: s.ClassifyText(**document(_key("F-DOC"), "Where is my parcel?")),
}
CHECK_FAULT: dict[str, Callable[[pytest.ExceptionInfo[Any]], bool]] = {
    "soap_fault": lambda e: (
        isinstance(e.value, zeep.exceptions.Fault) and e.value.code == "soap:Server"
    ),
    "http_500": lambda e: (
        isinstance(e.value, zeep.exceptions.TransportError) and e.value.status_code == 500
    ),
    "drop": lambda e: isinstance(e.value, requests.exceptions.ConnectionError),
}
RAISED = (zeep.exceptions.Error, requests.exceptions.RequestException)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["soap_fault", "http_500", "drop"])
def test_a_fault_serves_the_next_n_calls_then_the_simulator_recovers(
    sim_server: SimServer, clients: dict[str, zeep.Client], name: str, kind: str
) -> None:
    service, control = clients[name].service, sim_server.controls[name]
    control.inject(kind, 2)

    for _ in range(2):
        with pytest.raises(RAISED) as raised:
            FIRST_CALL[name](service)
        assert CHECK_FAULT[kind](raised), raised.value
    assert FIRST_CALL[name](service) is not None

    assert [call["fault"] for call in control.calls()] == [kind, kind, None]
    assert len(control.effects(scope={"payroll": "batch"}.get(name))) == 1
    assert control.faults() == []


def test_latency_delays_the_next_calls_and_then_answers_normally(
    clients: dict[str, zeep.Client], control: Callable[[str], SimControl]
) -> None:
    service = clients["classifier"].service
    control("classifier").inject("latency", 2, seconds=0.3)

    for _ in range(2):
        started = time.monotonic()
        assert FIRST_CALL["classifier"](service).Label == "order_tracking"
        assert time.monotonic() - started >= 0.3
    assert FIRST_CALL["classifier"](service).Label == "order_tracking"
    assert [call["fault"] for call in control("classifier").calls()] == ["latency", "latency", None]


def test_a_timeout_outlasts_the_client_and_nothing_is_applied(
    sim_server: SimServer, control: Callable[[str], SimControl]
) -> None:
    impatient = sim_server.client("logistics", operation_timeout=0.5).service
    control("logistics").inject("timeout", 1, seconds=1.0)

    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.CreateShipment(ShippingDetails=shipment("F-TIMEOUT"))
    result = impatient.CreateShipment(ShippingDetails=shipment("F-TIMEOUT"))

    assert result.OrderRef == "F-TIMEOUT"
    assert [call["duplicate"] for call in control("logistics").calls(key="F-TIMEOUT")] == [
        False,
        False,
    ]


def test_a_patient_client_gets_a_504_after_the_timeout(
    clients: dict[str, zeep.Client], control: Callable[[str], SimControl]
) -> None:
    control("payroll").inject("timeout", 1, seconds=0.2)

    with pytest.raises(zeep.exceptions.TransportError) as raised:
        FIRST_CALL["payroll"](clients["payroll"].service)

    assert raised.value.status_code == 504


def test_a_reply_lost_after_posting_is_answered_as_a_duplicate_on_retry(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    bank = control("corebank")
    bank.inject("drop", 1, stage="response")
    before = {a["account_no"]: a["balance_minor"] for a in bank.state()["accounts"]}

    with pytest.raises(requests.exceptions.ConnectionError):
        corebank.PostPayment(**payment("F-LOST", amountMinor=700))
    retry = corebank.PostPayment(**payment("F-LOST", amountMinor=700))

    after = {a["account_no"]: a["balance_minor"] for a in bank.state()["accounts"]}
    assert retry.resultCode == "00"
    assert after[BAKERY] == before[BAKERY] - 700
    calls = bank.calls("PostPayment")
    assert [(c["fault"], c["duplicate"]) for c in calls] == [("drop", False), (None, True)]


@pytest.mark.parametrize("kind", ["soap_fault", "http_500", "timeout", "latency"])
def test_response_stage_faults_apply_the_effect_first(
    clients: dict[str, zeep.Client], control: Callable[[str], SimControl], kind: str
) -> None:
    control("classifier").inject(kind, 1, seconds=0.1, stage="response")

    try:
        clients["classifier"].service.ClassifyText(**document("F-STAGE", "Wo ist mein Paket?"))
    except RAISED:
        assert kind != "latency"

    assert len(control("classifier").effects(key="F-STAGE")) == 1
    assert control("classifier").calls()[0]["fault"] == kind


def test_a_fault_bound_to_an_operation_spares_the_others(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    control("corebank").inject("soap_fault", 1, operation="PostPayment")

    assert corebank.InquirePayment(externalRef="F-BOUND").found is False
    with pytest.raises(zeep.exceptions.Fault):
        corebank.PostPayment(**payment("F-BOUND"))
    assert corebank.PostPayment(**payment("F-BOUND")).resultCode == "00"


def test_faults_are_served_oldest_first(
    classifier: Any, control: Callable[[str], SimControl]
) -> None:
    control("classifier").inject("http_500", 1)
    control("classifier").inject("soap_fault", 1)

    with pytest.raises(zeep.exceptions.TransportError):
        classifier.ClassifyText(**document("F-ORDER-1", "x"))
    with pytest.raises(zeep.exceptions.Fault):
        classifier.ClassifyText(**document("F-ORDER-2", "x"))


def test_concurrent_calls_consume_exactly_n_units(
    sim_server: SimServer, control: Callable[[str], SimControl]
) -> None:
    control("classifier").inject("http_500", 5)
    service = sim_server.client("classifier").service

    def classify(number: int) -> str:
        try:
            service.ClassifyText(**document(f"F-CONC-{number}", "Where is my parcel?"))
        except zeep.exceptions.TransportError:
            return "fault"
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(classify, range(20)))

    assert outcomes.count("fault") == 5
    assert outcomes.count("ok") == 15
    assert control("classifier").faults() == []
    assert len(control("classifier").effects()) == 15


# --------------------------------------------------------------------------- over HTTP


def test_faults_can_be_injected_listed_and_cleared_over_http(
    sim_server: SimServer, payroll: Any
) -> None:
    url = f"{sim_server.url('payroll')}/_control/faults"

    created = requests.post(
        url, json={"kind": "drop", "count": 3, "operation": "UpsertEmployee"}, timeout=5
    )
    listed = requests.get(url, timeout=5).json()
    with pytest.raises(requests.exceptions.ConnectionError):
        payroll.UpsertEmployee(EmployeeRecord=employee("F-HTTP-1"))
    remaining = requests.get(url, timeout=5).json()["faults"][0]["remaining"]
    cleared = requests.delete(url, timeout=5).json()

    assert created.status_code == 201
    assert created.json()["kind"] == "drop"
    assert [f["remaining"] for f in listed["faults"]] == [3]
    assert remaining == 2
    assert cleared == {"cleared": 1}
    assert payroll.UpsertEmployee(EmployeeRecord=employee("F-HTTP-1")).Status == "ACCEPTED"


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        ("payroll", {"kind": "meltdown"}, "unknown fault kind"),
        ("payroll", {"kind": "drop", "count": 0}, "count"),
        ("payroll", {"kind": "timeout", "seconds": -1}, "seconds"),
        ("payroll", {"kind": "drop", "stage": "later"}, "stage"),
        ("payroll", {"kind": "drop", "operation": "PostPayment"}, "unknown operation"),
        ("payroll", {"kind": "unavailable"}, "unknown fault kind"),
        ("corebank", {"kind": "unavailable", "operation": "GetStatement"}, "PostPayment"),
        ("corebank", {"kind": "drop", "colour": "red"}, "unknown fields"),
        ("corebank", ["drop"], "JSON object"),
    ],
)
def test_an_invalid_fault_is_refused_with_400(
    sim_server: SimServer, name: str, body: Any, error: str
) -> None:
    response = requests.post(f"{sim_server.url(name)}/_control/faults", json=body, timeout=5)

    assert response.status_code == 400
    assert error in response.json()["error"]


def test_calls_effects_and_state_can_be_read_over_http(
    sim_server: SimServer, corebank: Any
) -> None:
    corebank.PostPayment(**payment("F-READ-1", amountMinor=1))
    corebank.InquirePayment(externalRef="F-READ-1")
    base = f"{sim_server.url('corebank')}/_control"

    calls = requests.get(f"{base}/calls", params={"operation": "InquirePayment"}, timeout=5).json()
    effects = requests.get(f"{base}/effects", params={"key": "F-READ-1"}, timeout=5).json()
    state = requests.get(f"{base}/state", timeout=5).json()

    assert [c["operation"] for c in calls["calls"]] == ["InquirePayment"]
    assert calls["calls"][0]["received_at"].startswith("2025-06-02T09:00:00")
    (effect,) = effects["effects"]
    assert (effect["scope"], effect["request"]["amountMinor"]) == ("payment", 1)
    assert effect["response"]["resultCode"] == "00"
    assert {a["account_no"] for a in state["accounts"]} >= {BAKERY}


def test_reset_over_http_restores_the_seed(sim_server: SimServer, corebank: Any) -> None:
    base = f"{sim_server.url('corebank')}/_control"
    before = requests.get(f"{base}/state", timeout=5).json()
    corebank.PostPayment(**payment("F-RESET", amountMinor=99))

    reset = requests.post(f"{base}/reset", timeout=5)

    assert reset.json() == {"reset": "corebank"}
    assert requests.get(f"{base}/state", timeout=5).json() == before
    assert requests.get(f"{base}/calls", timeout=5).json() == {"calls": []}


def test_unknown_control_routes_and_methods(sim_server: SimServer) -> None:
    base = f"{sim_server.url('logistics')}/_control"

    assert requests.get(f"{base}/state", timeout=5).status_code == 404  # logistics has none
    assert requests.get(f"{base}/nothing", timeout=5).status_code == 404
    assert requests.put(f"{base}/faults", timeout=5).status_code == 405
