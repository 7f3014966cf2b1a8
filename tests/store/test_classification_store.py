"""The classification store: a document and its outbox row stored together, answers recorded
once, a waiting caller's answer recorded with the settling of the row it holds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, update

from bridge.domain.classification import (
    ClassificationRequest,
    ClassificationResult,
    ClassificationStatus,
)
from bridge.store.classifications import ClassificationStore
from bridge.store.tables import outbox
from tests.common.classification import documents, request_of
from tests.common.clock import Clock

REVIEW_BELOW = Decimal("0.75")
HOLD = timedelta(minutes=2)


@pytest.fixture
def store(engine: Engine, clock: Clock) -> ClassificationStore:
    return ClassificationStore(engine, clock=clock)


def _request(index: int = 0) -> ClassificationRequest:
    return request_of(documents()[index]["request"])


def _result(request: ClassificationRequest, confidence: str = "0.9000") -> ClassificationResult:
    return ClassificationResult(
        document_id=request.document_id,
        label="invoice",
        confidence=Decimal(confidence),
        model_version="m-1",
    )


def _delivery(engine: Engine) -> tuple[str, str | None]:
    with engine.connect() as connection:
        row = connection.execute(select(outbox.c.status, outbox.c.claimed_by)).one()
    return row.status, row.claimed_by


def test_a_document_is_stored_queued_with_its_outbox_row(
    store: ClassificationStore, engine: Engine
) -> None:
    assert store.add(_request(), correlation_id="cid-1") is False

    stored = store.document("DOC-EN-0001")
    assert stored is not None
    assert stored.request == _request()
    assert stored.classification.status is ClassificationStatus.QUEUED
    assert _delivery(engine) == ("pending", None)


def test_a_document_stored_already_is_not_stored_again(store: ClassificationStore) -> None:
    store.add(_request(), correlation_id=None)

    assert store.add(_request(), correlation_id=None) is None
    assert len(store.find()) == 1


def test_a_holder_holds_the_new_outbox_row_in_the_same_transaction(
    store: ClassificationStore, engine: Engine
) -> None:
    assert store.add(_request(), correlation_id=None, holder="now:a", hold=HOLD) is True

    assert _delivery(engine) == ("claimed", "now:a")
    assert not store.hold("DOC-EN-0001", "now:b", HOLD)


def test_the_first_answer_is_kept_and_a_low_confidence_flags_review(
    store: ClassificationStore,
) -> None:
    request = _request()
    store.add(request, correlation_id=None)

    assert store.record([_result(request, "0.5000")], review_below=REVIEW_BELOW) == 1
    assert store.record([_result(request, "0.9900")], review_below=REVIEW_BELOW) == 0

    found = store.get(request.document_id)
    assert found is not None
    assert (found.status, found.confidence, found.needs_review) == (
        ClassificationStatus.CLASSIFIED,
        Decimal("0.5000"),
        True,
    )


def test_a_waiting_callers_answer_is_recorded_with_its_held_row_delivered(
    store: ClassificationStore, engine: Engine
) -> None:
    request = _request()
    store.add(request, correlation_id=None, holder="now:a", hold=HOLD)

    store.record_held(
        _result(request), review_below=REVIEW_BELOW, holder="now:a", summary={"label": "invoice"}
    )

    assert _delivery(engine) == ("delivered", None)
    found = store.get(request.document_id)
    assert found is not None
    assert found.status is ClassificationStatus.CLASSIFIED


def test_a_document_whose_outbox_row_is_dead_is_dead_with_the_reason(
    store: ClassificationStore, engine: Engine
) -> None:
    store.add(_request(), correlation_id=None)
    with engine.begin() as connection:
        connection.execute(update(outbox).values(status="dead", last_error="refused (Client)"))

    [dead] = store.find(status=ClassificationStatus.DEAD)

    assert (dead.document_id, dead.error) == ("DOC-EN-0001", "refused (Client)")
    assert store.find(status=ClassificationStatus.QUEUED) == []


def test_get_finds_by_the_bridges_id_then_by_the_document_id(
    store: ClassificationStore,
) -> None:
    store.add(_request(), correlation_id=None)
    by_document = store.get("DOC-EN-0001")
    assert by_document is not None

    assert store.get(by_document.id) == by_document
    assert store.get("DOC-NONE") is None
