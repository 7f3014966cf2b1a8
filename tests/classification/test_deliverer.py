"""The classification job with a fake classifier: one ClassifyBatch per claimed batch, a result
recorded per document, refused documents set aside, missing ones retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from bridge.app import Bridge
from bridge.domain.classification import ClassificationStatus
from bridge.domain.errors import UpstreamUnavailable
from bridge.services.classification import ClassificationService
from bridge.store.tables import outbox
from bridge.sync import outbox as queue
from tests.common.classification import documents, request_of
from tests.common.classifier import FakeClassifier

IDS = ["DOC-EN-0001", "DOC-DE-0002", "DOC-VI-0003"]


def _queue_all(service: ClassificationService) -> None:
    for document in documents():
        service.submit(request_of(document["request"]))


def _rows(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(select(outbox).where(outbox.c.topic == "classification"))
        return {row.key: dict(row._mapping) for row in rows}


def _make_due(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(outbox).values(available_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_claimed_batch_is_one_classify_batch_and_every_result_is_recorded(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    _queue_all(service)

    report = fake_bridge.sync.run("classification")

    assert (report.claimed, report.delivered, report.retried, report.dead) == (3, 3, 0, 0)
    assert classifier.calls == [("ClassifyBatch", IDS)]
    assert {service.get(i).status for i in IDS} == {ClassificationStatus.CLASSIFIED}
    assert {r["status"] for r in _rows(fake_bridge.engine).values()} == {"delivered"}
    assert '"label": "label-of-message"' in str(_rows(fake_bridge.engine)[IDS[0]]["result"])


def test_a_document_the_contract_refuses_is_a_dead_letter_and_the_rest_is_sent(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    _queue_all(service)
    classifier.refused["DOC-DE-0002"] = "not valid for the classifier contract: Language"

    report = fake_bridge.sync.run("classification")

    assert (report.delivered, report.dead) == (2, 1)
    assert classifier.sent() == ["DOC-EN-0001", "DOC-VI-0003"]
    dead = service.get("DOC-DE-0002")
    assert dead.status is ClassificationStatus.DEAD
    assert dead.error == "not valid for the classifier contract: Language"


def test_a_document_missing_from_the_reply_is_retried_later(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    _queue_all(service)
    classifier.forgotten.add("DOC-VI-0003")

    first = fake_bridge.sync.run("classification")

    assert (first.delivered, first.retried) == (2, 1)
    row = _rows(fake_bridge.engine)["DOC-VI-0003"]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "answered nothing" in str(row["last_error"])

    classifier.forgotten.clear()
    _make_due(fake_bridge.engine)
    second = fake_bridge.sync.run("classification")

    assert (second.claimed, second.delivered) == (1, 1)
    assert service.get("DOC-VI-0003").status is ClassificationStatus.CLASSIFIED


def test_a_refused_batch_is_sent_one_by_one_so_only_the_refused_document_dies(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    _queue_all(service)
    classifier.rejected.add("DOC-DE-0002")

    report = fake_bridge.sync.run("classification")

    assert (report.delivered, report.dead) == (2, 1)
    assert [op for op, _ in classifier.calls] == ["ClassifyBatch", *["ClassifyText"] * 3]
    dead = service.get("DOC-DE-0002")
    assert dead.status is ClassificationStatus.DEAD
    assert dead.error is not None
    assert "refused (Client)" in dead.error


def test_the_classifier_turning_unavailable_one_by_one_leaves_the_rest_for_later(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    _queue_all(service)
    classifier.rejected.add("DOC-EN-0001")
    classifier.down_after = 2  # the batch is refused, the first alone is refused, then down

    report = fake_bridge.sync.run("classification")

    assert (report.delivered, report.dead, report.retried) == (0, 1, 2)
    rows = _rows(fake_bridge.engine)
    assert rows["DOC-EN-0001"]["status"] == queue.DEAD
    assert {rows[i]["status"] for i in IDS[1:]} == {queue.PENDING}


def test_the_classifier_down_retries_the_whole_batch_later_and_loses_nothing(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    _queue_all(service)
    classifier.failures = [UpstreamUnavailable("classifier", "ClassifyBatch: HTTP 500")]

    first = fake_bridge.sync.run("classification")

    assert (first.delivered, first.retried) == (0, 3)
    assert fake_bridge.sync.run("classification").claimed == 0  # backoff: not due yet
    _make_due(fake_bridge.engine)
    second = fake_bridge.sync.run("classification")

    assert second.delivered == 3
    assert {service.get(i).status for i in IDS} == {ClassificationStatus.CLASSIFIED}


def test_a_row_whose_payload_cannot_be_read_is_a_dead_letter(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    service.submit(request_of(documents()[0]["request"]))
    with fake_bridge.engine.begin() as connection:
        connection.execute(update(outbox).values(payload='{"document_id": "DOC-EN-0001"}'))

    report = fake_bridge.sync.run("classification")

    assert report.dead == 1
    assert str(_rows(fake_bridge.engine)["DOC-EN-0001"]["last_error"]).startswith("mapping: ")
