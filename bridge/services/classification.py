"""Classifying documents: queued for the nightly job, or classified at once for a waiting caller.

A document is stored with its outbox row in one transaction (`submit`), so the promise to
classify it commits with it; the classification job (`bridge.sync.deliveries.classification`)
sends it in a batch later. A caller that cannot wait for the night (a chat) asks
`classify_now`: the same row and outbox row are stored, the outbox row is held under a lease
while ClassifyText runs, and the result is recorded in the same transaction that marks the
outbox row delivered, so the job never sends the document again. If the classifier is
unavailable the document simply stays queued: the caller is told so, and nothing is lost.

The document id is the idempotency key throughout: the classifier applies each DocumentId once,
a document submitted twice with the same text, kind and language is one classification, and the
same id with another text is refused (`KeyReused`). The first result recorded for a document is
kept; a repeated delivery (after a crash between the call and its bookkeeping) finds the
classifier's stored answer, which is the same, and changes nothing.

Where a classification stands is read from two rows: `classifications.status` says whether a
result was recorded (queued | classified); whether it is dead is the state of its outbox row,
which the sync engine owns (a permanent refusal, or retries spent) and an operator's replay
revives. Reading it from there means the two can never disagree. Both rows are written by
`bridge.store.classifications`; the classifier is any `bridge.domain.upstream.Classifier`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Unpack

import pybreaker

from bridge.domain.classification import (
    Classification,
    ClassificationRequest,
    ClassificationResult,
    ClassificationStatus,
)
from bridge.domain.errors import (
    InvalidInput,
    KeyReused,
    MappingError,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.domain.upstream import Classifier
from bridge.services.retry import RetryPolicy, failed_fast
from bridge.store.classifications import ClassificationFilters, ClassificationStore
from bridge.upstream.breakers import guarded

CLASSIFY_TEXT, CLASSIFY_BATCH = "ClassifyText", "ClassifyBatch"
# The classifier's operations (this service's and the classification job's), each with the
# mapping specs of its request and its reply.
OPERATIONS = {
    CLASSIFY_TEXT: ("classifier/classify_text", "classifier/classify_text_result"),
    CLASSIFY_BATCH: ("classifier/classify_batch", "classifier/classify_batch_result"),
}
MAX_DOCUMENT_ID = 64  # classifications.document_id, and the contract's DocumentId


@dataclass(eq=False)
class ClassificationService:
    """`hold` is how long `classify_now` keeps the document's outbox row from the job; a
    process that dies mid-call frees it when the hold runs out, and the job sends it.

    `breaker` is the classifier's circuit breaker, the one the classification job sends its
    batches through (`bridge.sync.engine`): while it is open, a caller who waits is answered
    `queued` at once instead of waiting out the timeout of every try, and the calls made while
    callers wait count towards opening it, as the job's do. The job's own calls (`deliver`,
    through `classifier`) are counted by the job, once."""

    classifications: ClassificationStore
    classifier: Classifier
    review_threshold: Decimal
    _: KW_ONLY
    hold: timedelta = timedelta(seconds=120)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: pybreaker.CircuitBreaker | None = None

    # -- use cases -------------------------------------------------------------------------------

    def submit(
        self, request: ClassificationRequest, *, correlation_id: str | None = None
    ) -> Classification:
        """Queue `request` for the classification job; a document already submitted with the
        same text, kind and language is answered as it stands, with another one it is a
        `KeyReused`."""
        record, _held = self._store(request, correlation_id, holder=None)
        return record

    def classify_now(
        self, request: ClassificationRequest, *, correlation_id: str | None = None
    ) -> Classification:
        """Store `request` as `submit` does, then classify it with ClassifyText and answer the
        result. The answer is still `queued` (with the reason in `error`) when the classifier
        is unavailable after a few quick tries: the job classifies it later. A refusal by the
        classifier's contract or a Client fault makes it `dead`, with the reason.

        A document already classified or dead is answered as it stands; one the job holds at
        this moment is classified anyway (the classifier applies each DocumentId once, so both
        get the same answer) and its outbox row is left to the job."""
        holder = f"now:{uuid.uuid4().hex[:16]}"
        record, held = self._store(request, correlation_id, holder=holder)
        if record.status is not ClassificationStatus.QUEUED:
            return record
        document_id = record.document_id
        if not held:
            held = self.classifications.hold(document_id, holder, self.hold)
        try:
            result = self._classify(request, correlation_id)
        except UpstreamUnavailable as exc:
            if held:
                self.classifications.failed(document_id, holder, exc.detail, dead=False)
            return self.get(record.id)
        except (UpstreamRejected, InvalidInput) as exc:
            if held:
                self.classifications.failed(document_id, holder, exc.detail, dead=True)
            return self.get(record.id)
        except BaseException:
            if held:  # not an attempt that says anything: give the row back untouched
                self.classifications.release(document_id, holder)
            raise
        self.classifications.record_held(
            result,
            review_below=self.review_threshold,
            holder=holder if held else None,
            summary=result_summary(result),
        )
        return self.get(record.id)

    def get(self, id_or_document_id: str) -> Classification:
        """By the bridge's id first, then by the caller's document id."""
        found = self.classifications.get(id_or_document_id)
        if found is None:
            raise NotFound(f"no classification with id or document_id {id_or_document_id!r}")
        return found

    def find(self, **filters: Unpack[ClassificationFilters]) -> list[Classification]:
        """Oldest first, as a review queue is worked: in arrival order (`ClassificationFilters`)."""
        return self.classifications.find(**filters)

    def record_result(self, result: ClassificationResult) -> bool:
        """Record the classifier's answer for one document; False if there was nothing to
        change (unknown document, or a result already recorded: the first one is kept)."""
        return self.record_results([result]) == 1

    def record_results(self, results: Iterable[ClassificationResult]) -> int:
        """Record several answers in one transaction (a batch); how many changed a row."""
        return self.classifications.record(results, review_below=self.review_threshold)

    # -- storing and asking ----------------------------------------------------------------------

    def _store(
        self, request: ClassificationRequest, correlation_id: str | None, *, holder: str | None
    ) -> tuple[Classification, bool]:
        """The document's classification, stored now with its outbox row unless it was there;
        with `holder`, a new outbox row is held for it in the same transaction."""
        _check_document_id(request.document_id)
        existing = self._existing(request)
        if existing is not None:
            return existing, False
        held = self.classifications.add(
            request, correlation_id=correlation_id, holder=holder, hold=self.hold
        )
        if held is None:
            # The same document id arrived twice at once: the other request stored it first.
            existing = self._existing(request)
            assert existing is not None  # stored by the other request, and never deleted
            return existing, False
        stored = self.classifications.document(request.document_id)
        assert stored is not None  # committed just now, and never deleted
        return stored.classification, held

    def _existing(self, request: ClassificationRequest) -> Classification | None:
        stored = self.classifications.document(request.document_id)
        if stored is None:
            return None
        if stored.request != request:
            raise KeyReused(
                f"document_id {request.document_id!r} was already submitted with another text, "
                "kind or language; give a new document a new document_id"
            )
        return stored.classification

    def _classify(
        self, request: ClassificationRequest, correlation_id: str | None
    ) -> ClassificationResult:
        reason = self.classifier.refusal(CLASSIFY_TEXT, request)
        if reason is not None:
            raise UpstreamRejected("classifier", f"{CLASSIFY_TEXT}: not sent: {reason}")
        call = partial(self.classifier.call, CLASSIFY_TEXT, request, correlation_id=correlation_id)
        for attempt in self.retry.retrying(failed_fast):
            with attempt:
                result: ClassificationResult = (
                    call() if self.breaker is None else guarded(self.breaker, "classifier", call)
                )
        if result.document_id != request.document_id:
            raise UpstreamUnavailable(
                "classifier",
                f"{CLASSIFY_TEXT}: answered for document {result.document_id!r} instead",
            )
        return result


def result_summary(result: ClassificationResult) -> dict[str, Any]:
    """What the outbox row keeps of the answer (the classification row keeps all of it)."""
    return {
        "label": result.label,
        "confidence": format(result.confidence, "f"),
        "model_version": result.model_version,
    }


def _check_document_id(document_id: str) -> None:
    """The one limit storage itself imposes; the door checks the rest of the contract."""
    if not 1 <= len(document_id) <= MAX_DOCUMENT_ID:
        raise MappingError(
            "document_id", f"1 to {MAX_DOCUMENT_ID} characters", document_id[:80] or None
        )
