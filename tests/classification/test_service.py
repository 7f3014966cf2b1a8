"""The classification service over the real database, with a fake classifier."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, update

from bridge.app import Bridge
from bridge.domain.classification import (
    ClassificationRequest,
    ClassificationResult,
    ClassificationStatus,
)
from bridge.domain.errors import KeyReused, MappingError, NotFound, UpstreamUnavailable
from bridge.services.classification import ClassificationService
from bridge.store.tables import classifications, outbox
from bridge.upstream.soap import UpstreamTimeout
from tests.common.classification import documents, request_of
from tests.common.classifier import FakeClassifier


def _request(index: int = 0) -> ClassificationRequest:
    return request_of(documents()[index]["request"])


def _outbox(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(select(outbox).where(outbox.c.topic == "classification"))
        return {row.key: dict(row._mapping) for row in rows}


def _stored(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(classifications))]


def test_submit_stores_the_document_and_its_outbox_row(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    record = service.submit(_request(), correlation_id="cid-1")

    assert record.status is ClassificationStatus.QUEUED
    assert (record.document_id, record.kind, record.language) == ("DOC-EN-0001", "MESSAGE", "en")
    assert record.label is None
    assert record.needs_review is None
    row = _outbox(fake_bridge.engine)["DOC-EN-0001"]
    assert (row["status"], row["correlation_id"]) == ("pending", "cid-1")
    assert [r["status"] for r in _stored(fake_bridge.engine)] == ["queued"]


def test_a_document_submitted_twice_is_one_classification(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    first = service.submit(_request())
    again = service.submit(_request())

    assert again.id == first.id
    assert len(_stored(fake_bridge.engine)) == 1
    assert len(_outbox(fake_bridge.engine)) == 1


def test_a_document_id_reused_for_another_text_is_refused(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    service.submit(_request())

    with pytest.raises(KeyReused, match="DOC-EN-0001"):
        service.submit(replace(_request(), text="Something else entirely"))
    assert len(_outbox(fake_bridge.engine)) == 1


def test_a_document_id_longer_than_storage_allows_is_refused_before_anything_is_stored(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    with pytest.raises(MappingError, match="document_id"):
        service.submit(replace(_request(), document_id="D" * 65))
    assert _stored(fake_bridge.engine) == []


def test_get_finds_by_id_and_by_document_id(service: ClassificationService) -> None:
    record = service.submit(_request())

    assert service.get(record.id) == record
    assert service.get("DOC-EN-0001") == record
    with pytest.raises(NotFound):
        service.get("DOC-NOPE")


def test_record_result_keeps_the_exact_confidence_and_flags_low_ones_for_review(
    service: ClassificationService,
) -> None:
    service.submit(_request(0))
    service.submit(_request(1))

    for document_id, confidence in (("DOC-EN-0001", "0.7499"), ("DOC-DE-0002", "0.7500")):
        assert service.record_result(
            ClassificationResult(
                document_id=document_id,
                label="invoice",
                confidence=Decimal(confidence),
                model_version="m-1",
            )
        )

    low, at_threshold = service.get("DOC-EN-0001"), service.get("DOC-DE-0002")
    assert (low.status, low.confidence, low.needs_review) == ("classified", Decimal("0.7499"), True)
    assert str(at_threshold.confidence) == "0.7500"
    assert at_threshold.needs_review is False
    assert low.classified_at is not None
    assert low.classified_at.tzinfo is not None


def test_the_first_recorded_result_is_kept(service: ClassificationService) -> None:
    service.submit(_request())
    first = ClassificationResult(
        document_id="DOC-EN-0001", label="a", confidence=Decimal("0.9"), model_version="m-1"
    )

    assert service.record_result(first)
    assert not service.record_result(replace(first, label="b"))
    assert service.get("DOC-EN-0001").label == "a"


def test_classify_now_answers_the_result_and_the_job_never_sends_it(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    record = service.classify_now(_request(), correlation_id="cid-now")

    assert record.status is ClassificationStatus.CLASSIFIED
    assert (record.label, record.confidence, record.model_version) == (
        "label-of-message",
        Decimal("0.9000"),
        "fake-1",
    )
    assert [e.value for e in record.entities] == ["Hello,"]
    row = _outbox(fake_bridge.engine)["DOC-EN-0001"]
    assert (row["status"], row["attempts"], row["claimed_by"]) == ("delivered", 1, None)
    assert fake_bridge.sync.run("classification").claimed == 0
    assert classifier.sent() == ["DOC-EN-0001"]


def test_classify_now_retries_a_fast_failure_then_answers(
    service: ClassificationService, classifier: FakeClassifier
) -> None:
    classifier.failures = [UpstreamUnavailable("classifier", "HTTP 500")]

    record = service.classify_now(_request())

    assert record.status is ClassificationStatus.CLASSIFIED
    assert classifier.sent("ClassifyText") == ["DOC-EN-0001", "DOC-EN-0001"]


def test_classify_now_with_the_classifier_down_leaves_the_document_queued_for_the_job(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    classifier.failures = [UpstreamUnavailable("classifier", "ClassifyText: HTTP 500")] * 2

    record = service.classify_now(_request())

    assert record.status is ClassificationStatus.QUEUED
    assert record.error == "classifier: ClassifyText: HTTP 500"
    row = _outbox(fake_bridge.engine)["DOC-EN-0001"]
    assert (row["status"], row["attempts"], row["claimed_by"]) == ("pending", 1, None)

    report = fake_bridge.sync.run("classification")

    assert (report.claimed, report.delivered) == (1, 1)
    assert service.get("DOC-EN-0001").status is ClassificationStatus.CLASSIFIED


def test_classify_now_does_not_retry_after_a_timeout(
    service: ClassificationService, classifier: FakeClassifier
) -> None:
    classifier.failures = [UpstreamTimeout("classifier", "ClassifyText: no answer in time")]

    record = service.classify_now(_request())

    assert record.status is ClassificationStatus.QUEUED
    assert len(classifier.calls) == 1


def test_classify_now_of_a_document_the_contract_refuses_makes_it_dead_without_sending(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    classifier.refused["DOC-EN-0001"] = "not valid for the classifier contract: Language"

    record = service.classify_now(_request())

    assert record.status is ClassificationStatus.DEAD
    assert record.error is not None
    assert "Language" in record.error
    assert classifier.calls == []
    assert _outbox(fake_bridge.engine)["DOC-EN-0001"]["status"] == "dead"


def test_classify_now_of_a_document_the_classifier_refuses_makes_it_dead(
    service: ClassificationService, classifier: FakeClassifier
) -> None:
    classifier.rejected.add("DOC-EN-0001")

    record = service.classify_now(_request())

    assert record.status is ClassificationStatus.DEAD
    assert record.error is not None
    assert "refused (Client)" in record.error


def test_classify_now_of_a_queued_document_classifies_it_and_settles_its_outbox_row(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    queued = service.submit(_request())

    record = service.classify_now(_request())

    assert (record.id, record.status) == (queued.id, ClassificationStatus.CLASSIFIED)
    assert _outbox(fake_bridge.engine)["DOC-EN-0001"]["status"] == "delivered"


def test_classify_now_of_a_document_a_job_holds_classifies_it_and_leaves_the_row_to_the_job(
    service: ClassificationService, fake_bridge: Bridge, classifier: FakeClassifier
) -> None:
    service.submit(_request())
    fake_bridge.sync.outbox.claim("classification", 10, lease=timedelta(minutes=5), worker="job")

    record = service.classify_now(_request())

    assert record.status is ClassificationStatus.CLASSIFIED
    row = _outbox(fake_bridge.engine)["DOC-EN-0001"]
    assert row["status"] == "claimed"
    assert str(row["claimed_by"]).startswith("job:")


def test_classify_now_of_a_classified_document_answers_it_without_asking_again(
    service: ClassificationService, classifier: FakeClassifier
) -> None:
    first = service.classify_now(_request())

    again = service.classify_now(_request())

    assert again == first
    assert len(classifier.calls) == 1


def test_a_hold_left_by_a_dead_process_runs_out_and_the_job_sends_the_document(
    service: ClassificationService, fake_bridge: Bridge
) -> None:
    service.submit(_request())
    with fake_bridge.engine.begin() as connection:  # what a process killed mid-call leaves
        connection.execute(
            update(outbox).values(
                status="claimed",
                claimed_by="now:gone",
                claimed_until=datetime.now(UTC) - timedelta(seconds=1),
            )
        )

    report = fake_bridge.sync.run("classification")

    assert report.delivered == 1
    assert service.get("DOC-EN-0001").status is ClassificationStatus.CLASSIFIED


def test_list_filters_by_status_and_review_and_pages_oldest_first(
    service: ClassificationService, classifier: FakeClassifier
) -> None:
    classifier.confidences["DOC-DE-0002"] = Decimal("0.5000")
    for index in range(3):
        service.submit(_request(index))
    service.classify_now(_request(1))

    assert [c.document_id for c in service.find(status=ClassificationStatus.QUEUED)] == [
        "DOC-EN-0001",
        "DOC-VI-0003",
    ]
    assert [c.document_id for c in service.find(needs_review=True)] == ["DOC-DE-0002"]
    first = service.find(limit=2)
    rest = service.find(after=(first[-1].created_at, first[-1].id))
    assert [c.document_id for c in first + rest] == ["DOC-EN-0001", "DOC-DE-0002", "DOC-VI-0003"]
