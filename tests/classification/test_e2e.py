"""End to end on the embedded default: the REST door, the outbox, the classification job, the
zeep client and the classifier simulator, whose own records prove each DocumentId was applied
once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import update

from bridge.cli import main
from bridge.services.classification import ClassificationService
from bridge.sims import SimControl, controls
from bridge.store.classifications import ClassificationStore
from bridge.store.tables import outbox
from bridge.sync.deliveries.classification import OPERATIONS, ClassificationDeliverer
from bridge.sync.engine import SyncEngine
from bridge.sync.outbox import Outbox
from bridge.upstream.soap import SoapUpstream
from tests.common.classification import THRESHOLD, case, documents, request_of
from tests.common.live import LiveBridge, serve_bridge

pytestmark = pytest.mark.slow

IDS = [d["request"]["document_id"] for d in documents()]


def _url(live: LiveBridge, suffix: str = "") -> str:
    return f"{live.url}/api/v1/classifications{suffix}"


def _post(live: LiveBridge, body: dict[str, Any], *, wait: bool = False) -> requests.Response:
    return requests.post(_url(live, "?wait=true" if wait else ""), json=body, timeout=30)


def _get(live: LiveBridge, id_or_document_id: str) -> dict[str, Any]:
    response = requests.get(_url(live, f"/{id_or_document_id}"), timeout=30)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _classifier(live: LiveBridge) -> SimControl:
    return controls(live.bridge.engine)["classifier"]


def _applied(live: LiveBridge) -> list[str]:
    """The DocumentIds the simulator classified (applied), one entry per application."""
    return [e["idempotency_key"] for e in _classifier(live).effects(scope="document")]


def _make_due(live: LiveBridge) -> None:
    """Pretend the backoff has passed."""
    with live.bridge.engine.begin() as connection:
        connection.execute(
            update(outbox).values(available_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _queue_documents(live: LiveBridge) -> None:
    for document in documents():
        response = _post(live, document["request"])
        assert response.status_code == 202, response.text


def test_queued_documents_are_classified_by_the_job_and_applied_once(
    live_bridge: LiveBridge,
) -> None:
    _queue_documents(live_bridge)

    report = live_bridge.bridge.sync.run("classification")

    assert (report.claimed, report.delivered, report.retried, report.dead) == (3, 3, 0, 0)
    for document in documents():
        found = _get(live_bridge, document["request"]["document_id"])
        expected = document["expected"]
        assert found["status"] == "classified"
        assert (found["label"], found["confidence"], found["needs_review"]) == (
            expected["label"],
            expected["confidence"],
            expected["needs_review"],
        )
        assert found["entities"] == expected["entities"]
        assert found["model_version"] == "rules-1"
    assert sorted(_applied(live_bridge)) == sorted(IDS)
    batches = _classifier(live_bridge).calls(operation="ClassifyBatch")
    assert [call["summary"]["documents"] for call in batches] == [3]


def test_the_review_queue_shows_the_low_confidence_result(live_bridge: LiveBridge) -> None:
    _queue_documents(live_bridge)
    _post(live_bridge, case("at_threshold")["request"])
    live_bridge.bridge.sync.run("classification")

    response = requests.get(_url(live_bridge, "?needs_review=true"), timeout=30)

    listed = response.json()["classifications"]
    assert [(c["document_id"], c["confidence"]) for c in listed] == [("DOC-VI-0003", "0.6000")]
    assert live_bridge.bridge.settings.review_threshold == THRESHOLD


def test_wait_true_classifies_at_once_and_the_job_has_nothing_left(
    live_bridge: LiveBridge,
) -> None:
    nothing = case("nothing_recognised")

    response = _post(live_bridge, nothing["request"], wait=True)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["label"], body["confidence"], body["needs_review"]) == (
        "classified",
        nothing["expected"]["label"],
        nothing["expected"]["confidence"],
        nothing["expected"]["needs_review"],
    )
    assert live_bridge.bridge.sync.run("classification").claimed == 0
    calls = _classifier(live_bridge).calls()
    assert [(c["operation"], c["idempotency_key"]) for c in calls] == [
        ("ClassifyText", "DOC-EN-0101")
    ]


def test_wait_true_with_the_classifier_down_answers_queued_and_the_job_finishes_it(
    live_bridge: LiveBridge,
) -> None:
    _classifier(live_bridge).inject("http_500", count=3)
    document = documents()[1]

    response = _post(live_bridge, document["request"], wait=True)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert "HTTP 500" in response.json()["error"]
    assert _applied(live_bridge) == []

    report = live_bridge.bridge.sync.run("classification")

    assert report.delivered == 1
    assert _get(live_bridge, "DOC-DE-0002")["label"] == document["expected"]["label"]
    assert _applied(live_bridge) == ["DOC-DE-0002"]


@pytest.fixture
def impatient_bridge(tmp_path: Any) -> Iterator[LiveBridge]:
    """A live bridge whose zeep clients give up after half a second."""
    with serve_bridge(
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}", upstream_timeout=0.5
    ) as live:
        yield live


def test_wait_true_gives_up_after_one_timeout_instead_of_retrying(
    impatient_bridge: LiveBridge,
) -> None:
    _classifier(impatient_bridge).inject("timeout", count=1, seconds=1.5)
    started = time.monotonic()

    response = _post(impatient_bridge, documents()[0]["request"], wait=True)

    assert response.status_code == 202
    assert time.monotonic() - started < 1.4  # one timeout, not three
    assert len(_classifier(impatient_bridge).calls(operation="ClassifyText")) == 1


@pytest.mark.parametrize("kind", ["http_500", "soap_fault"])
def test_classifier_down_the_rows_are_retried_later_and_nothing_is_lost(
    live_bridge: LiveBridge, kind: str
) -> None:
    _queue_documents(live_bridge)
    _classifier(live_bridge).inject(kind, count=1)

    first = live_bridge.bridge.sync.run("classification")

    assert (first.delivered, first.retried) == (0, 3)
    assert {_get(live_bridge, i)["status"] for i in IDS} == {"queued"}
    assert all(_get(live_bridge, i)["error"] for i in IDS)
    assert live_bridge.bridge.sync.run("classification").claimed == 0  # backoff: not yet

    _make_due(live_bridge)
    second = live_bridge.bridge.sync.run("classification")

    assert second.delivered == 3
    assert {_get(live_bridge, i)["status"] for i in IDS} == {"classified"}
    assert sorted(_applied(live_bridge)) == sorted(IDS)


def test_a_reply_lost_after_the_classifier_applied_is_not_applied_twice(
    live_bridge: LiveBridge,
) -> None:
    _queue_documents(live_bridge)
    _classifier(live_bridge).inject("drop", count=1, stage="response")

    live_bridge.bridge.sync.run("classification")
    _make_due(live_bridge)
    live_bridge.bridge.sync.run("classification")

    assert {_get(live_bridge, i)["status"] for i in IDS} == {"classified"}
    batches = _classifier(live_bridge).calls(operation="ClassifyBatch")
    assert [call["duplicate"] for call in batches] == [False, True]
    assert sorted(_applied(live_bridge)) == sorted(IDS)


def test_a_document_the_contract_refuses_is_a_dead_letter_with_the_reason(
    live_bridge: LiveBridge,
) -> None:
    # The REST door refuses it (400); a document that reached the queue another way (another
    # door, a contract changed since) is set aside by the job, and the rest is classified.
    refused = case("refused_language")
    assert _post(live_bridge, refused["request"]).status_code == 400
    _queue_documents(live_bridge)
    live_bridge.bridge.classification.submit(request_of(refused["request"]))

    report = live_bridge.bridge.sync.run("classification")

    assert (report.delivered, report.dead) == (3, 1)
    dead = _get(live_bridge, "DOC-DE-0102")
    assert dead["status"] == "dead"
    assert "Language" in dead["error"]
    assert "DOC-DE-0102" not in _applied(live_bridge)
    listed = requests.get(_url(live_bridge, "?status=dead"), timeout=30).json()
    assert [c["document_id"] for c in listed["classifications"]] == ["DOC-DE-0102"]


def test_a_client_fault_from_the_classifier_is_a_dead_letter_with_its_reason(
    live_bridge: LiveBridge,
) -> None:
    """A job whose client does not check the contract first (as if the classifier's rules were
    stricter than its schema shows): the simulator refuses the batch with a Client fault, the
    job sends the documents one by one, and only the refused one dies."""
    bridge, refused = live_bridge.bridge, case("refused_language")
    unchecked = SoapUpstream(
        "classifier",
        bridge.settings.contracts_dir / "upstream" / "classifier.wsdl",
        bridge.upstreams.address("classifier"),
        bridge.mappings,
        OPERATIONS,
        timeout=10,
        http=bridge.upstreams.http("classifier"),
    )
    service = ClassificationService(ClassificationStore(bridge.engine), unchecked, THRESHOLD)
    job = SyncEngine(
        bridge.engine, Outbox(bridge.engine), {"classification": ClassificationDeliverer(service)}
    )
    _queue_documents(live_bridge)
    service.submit(request_of(refused["request"]))

    report = job.run("classification")

    assert (report.delivered, report.dead) == (3, 1)
    dead = _get(live_bridge, "DOC-DE-0102")
    assert dead["status"] == "dead"
    assert "refused (Client" in dead["error"]
    assert "Language" in dead["error"]
    # The simulator records a message its schema refused as "(refused)": the batch, then the
    # refused document alone; each of the others was classified by its own ClassifyText.
    calls = [(c["operation"], c["idempotency_key"]) for c in _classifier(live_bridge).calls()]
    assert calls == [
        ("(refused)", None),
        *[("ClassifyText", document_id) for document_id in IDS],
        ("(refused)", None),
    ]
    assert sorted(_applied(live_bridge)) == sorted(IDS)


def test_a_duplicate_post_of_the_same_document_is_one_classification(
    live_bridge: LiveBridge,
) -> None:
    body = documents()[2]["request"]

    first, again = _post(live_bridge, body), _post(live_bridge, body)
    live_bridge.bridge.sync.run("classification")
    settled = _post(live_bridge, body, wait=True)

    assert again.status_code == 202
    assert first.json()["id"] == again.json()["id"] == settled.json()["id"]
    assert settled.status_code == 200
    assert settled.json()["status"] == "classified"
    assert _applied(live_bridge) == ["DOC-VI-0003"]
    assert live_bridge.bridge.sync.outbox.depth() == {"classification": {"delivered": 1}}
    listed = requests.get(_url(live_bridge), timeout=30).json()["classifications"]
    assert len(listed) == 1


def test_the_cli_runs_the_job_and_prints_the_counts(
    live_bridge: LiveBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue_documents(live_bridge)
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    env = {
        "BRIDGE_DATABASE_URL": live_bridge.bridge.settings.database_url,
        "BRIDGE_CLASSIFIER_URL": f"{live_bridge.url}/sims/classifier",
        "BRIDGE_SIMULATORS": "false",
        "BRIDGE_SCHEDULER": "false",
    }

    result = CliRunner().invoke(main, ["sync", "run", "classification"], env=env)

    assert result.exit_code == 0, result.output
    assert "classification: claimed 3, delivered 3, retried 0, dead 0" in result.output
    assert {_get(live_bridge, i)["status"] for i in IDS} == {"classified"}
    assert sorted(_applied(live_bridge)) == sorted(IDS)


def test_the_cli_status_shows_the_classification_queue_and_its_dead_letters(
    live_bridge: LiveBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue_documents(live_bridge)
    live_bridge.bridge.classification.submit(request_of(case("refused_language")["request"]))
    live_bridge.bridge.sync.run("classification")
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    env = {
        "BRIDGE_DATABASE_URL": live_bridge.bridge.settings.database_url,
        "BRIDGE_SIMULATORS": "false",
        "BRIDGE_SCHEDULER": "false",
    }

    result = CliRunner().invoke(main, ["sync", "status"], env=env)

    assert result.exit_code == 0, result.output
    queue_line = next(line for line in result.output.splitlines() if line.startswith("classif"))
    assert queue_line.split() == ["classification", "0", "0", "3", "1"]
    assert "DOC-DE-0102" in result.output
    assert "Language" in result.output
