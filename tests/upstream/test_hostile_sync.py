"""Sync deliveries through a hostile network, checked against what each upstream applied.

Payroll (SubmitPayrollBatch), the logistics partner (CreateShipment) and the classifier
(ClassifyBatch from the job, ClassifyText from `wait=true`) deduplicate on each message's key.
So after any answer that is not a Client fault the row is retried, never set aside as a dead
letter marked refused while the upstream may have applied it; once the network behaves, the next
run delivers it and the upstream holds exactly one effect under its key. A Client fault is the
one answer that makes a dead letter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.common.network import Network
from tests.hostile_network import UNKNOWN_OUTCOME, Shape

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[1] / "data"


def _json(path: str) -> Any:
    return json.loads((DATA / path).read_text("utf-8"))


def queue_employee_change(network: Network, suffix: str) -> str:
    record_id = f"R-{suffix}"
    change = {**_json("hr/employee_change.json"), "record_id": record_id}
    response = requests.put(
        f"{network.url}/api/v1/hr/employees/H{suffix[:12]}", json=change, timeout=30
    )
    assert response.status_code == 202, response.text
    return record_id


def queue_shipment(network: Network, suffix: str) -> str:
    order = {**_json("shipping/order.json"), "order_ref": f"ORD-{suffix}"}
    order["shipment_ref"] = f"SHP-{suffix}"
    response = requests.post(f"{network.url}/api/v1/shipments", json=order, timeout=30)
    assert response.status_code == 202, response.text
    return str(order["order_ref"])


def queue_document(network: Network, suffix: str) -> str:
    document = {**_json("classification/documents.json")[0]["request"]}
    document["document_id"] = f"DOC-{suffix}"
    response = requests.post(f"{network.url}/api/v1/classifications", json=document, timeout=30)
    assert response.status_code == 202, response.text
    return str(document["document_id"])


@dataclass(frozen=True)
class Step:
    job: str  # also the outbox topic
    upstream: str
    operation: str
    scope: str  # the simulator's effect scope of one row's key
    queue: Callable[[Network, str], str]  # queues one row, returns its key

    def __str__(self) -> str:
        return self.operation


STEPS = [
    Step("payroll", "payroll", "SubmitPayrollBatch", "record", queue_employee_change),
    Step("shipments", "logistics", "CreateShipment", "order", queue_shipment),
    Step("classification", "classifier", "ClassifyBatch", "document", queue_document),
]


def applied(network: Network, step: Step, key: str) -> int:
    return len(network.sim(step.upstream).effects(step.scope, key))


def new_suffix() -> str:
    return uuid.uuid4().hex[:16].upper()


@pytest.mark.parametrize("shape", UNKNOWN_OUTCOME, ids=str)
@pytest.mark.parametrize("step", STEPS, ids=str)
def test_row_without_a_verdict_is_retried_and_applied_once(
    network: Network, step: Step, shape: Shape
) -> None:
    key = step.queue(network, new_suffix())
    network.proxies[step.upstream].script(step.operation, shape)

    first = network.live.bridge.sync.run(step.job)

    row = network.outbox_row(step.job, key)
    assert (row["status"], first.dead, first.retried) == ("pending", 0, 1), row["last_error"]
    assert "refused" not in row["last_error"]
    assert applied(network, step, key) == (1 if shape.forwards else 0)
    network.behave()
    network.make_due(step.job)
    second = network.live.bridge.sync.run(step.job)
    assert network.outbox_row(step.job, key)["status"] == "delivered"
    assert (second.delivered, second.dead) == (1, 0)
    assert applied(network, step, key) == 1


@pytest.mark.parametrize("step", STEPS, ids=str)
def test_client_fault_makes_a_dead_letter_with_nothing_applied(
    network: Network, step: Step
) -> None:
    key = step.queue(network, new_suffix())
    network.proxies[step.upstream].script(step.operation, Shape.CLIENT_FAULT)

    report = network.live.bridge.sync.run(step.job)

    assert network.outbox_row(step.job, key)["status"] == "dead"
    assert report.dead == 1
    assert applied(network, step, key) == 0


@pytest.mark.parametrize("shape", UNKNOWN_OUTCOME, ids=str)
def test_classify_now_without_a_verdict_stays_queued_for_the_job(
    network: Network, shape: Shape
) -> None:
    document = {**_json("classification/documents.json")[0]["request"]}
    document["document_id"] = key = f"DOC-{new_suffix()}"
    network.proxies["classifier"].script("ClassifyText", shape)

    answer = requests.post(
        f"{network.url}/api/v1/classifications?wait=true", json=document, timeout=30
    )

    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], bool(answer.json()["error"])) == ("queued", True)
    assert network.outbox_row("classification", key)["status"] == "pending"
    network.behave()
    network.make_due("classification")
    network.live.bridge.sync.run("classification")
    read = requests.get(f"{network.url}/api/v1/classifications/{key}", timeout=30)
    assert read.json()["status"] == "classified"
    assert len(network.sim("classifier").effects("document", key)) == 1
