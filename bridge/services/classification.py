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
revives. Reading it from there means the two can never disagree.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bridge.domain.classification import (
    Classification,
    ClassificationRequest,
    ClassificationResult,
    ClassificationStatus,
    Entity,
)
from bridge.domain.clock import Clock, as_utc, utcnow
from bridge.domain.errors import (
    InvalidInput,
    KeyReused,
    MappingError,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.mapping import canonical_json
from bridge.services.retry import RetryPolicy, failed_fast
from bridge.store.tables import classifications, outbox
from bridge.sync import outbox as queue

TOPIC = "classification"
CLASSIFY_TEXT = "ClassifyText"
QUEUED, CLASSIFIED = ClassificationStatus.QUEUED.value, ClassificationStatus.CLASSIFIED.value
MAX_DOCUMENT_ID = 64  # classifications.document_id, and the contract's DocumentId

# The view of a classification: its row, and the state of its outbox row.
_VIEW = select(
    classifications,
    outbox.c.status.label("delivery"),
    outbox.c.last_error.label("delivery_error"),
).select_from(
    classifications.outerjoin(
        outbox, and_(outbox.c.topic == TOPIC, outbox.c.key == classifications.c.document_id)
    )
)
_DEAD = and_(classifications.c.status != CLASSIFIED, outbox.c.status == queue.DEAD)
_STATUS_FILTERS = {
    ClassificationStatus.CLASSIFIED: classifications.c.status == CLASSIFIED,
    ClassificationStatus.DEAD: _DEAD,
    ClassificationStatus.QUEUED: and_(
        classifications.c.status != CLASSIFIED,
        or_(outbox.c.status.is_(None), outbox.c.status != queue.DEAD),
    ),
}


class Classifier(Protocol):
    """What the service needs of the classifier: `bridge.upstream.soap.SoapUpstream` built with
    the ClassifyText and ClassifyBatch operations, or a fake in tests."""

    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any: ...

    def refusal(self, operation: str, message: Any) -> str | None: ...


class ClassificationService:
    def __init__(
        self,
        engine: Engine,
        classifier: Classifier,
        review_threshold: Decimal,
        *,
        retry: RetryPolicy | None = None,
        hold: timedelta = timedelta(seconds=120),
        clock: Clock = utcnow,
    ) -> None:
        """`hold` is how long `classify_now` keeps the document's outbox row from the job; a
        process that dies mid-call frees it when the hold runs out, and the job sends it."""
        self._engine = engine
        self.classifier = classifier
        self.review_threshold = review_threshold
        self._retry = retry or RetryPolicy()
        self._hold = hold
        self._clock = clock

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
        if not held:
            held = self._take(record.document_id, holder)
        try:
            result = self._classify(request, correlation_id)
        except UpstreamUnavailable as exc:
            if held:
                self._settle(record.document_id, holder, queue.PENDING, error=exc.detail)
            return self.get(record.id)
        except (UpstreamRejected, InvalidInput) as exc:
            if held:
                self._settle(record.document_id, holder, queue.DEAD, error=exc.detail)
            return self.get(record.id)
        except BaseException:
            if held:  # not an attempt that says anything: give the row back untouched
                self._release(record.document_id, holder)
            raise
        now = self._clock()
        with self._engine.begin() as connection:
            self._record(connection, result, now)
            if held:
                self._settle_in(
                    connection,
                    record.document_id,
                    holder,
                    queue.DELIVERED,
                    now,
                    summary=result_summary(result),
                )
        return self.get(record.id)

    def get(self, id_or_document_id: str) -> Classification:
        """By the bridge's id first, then by the caller's document id."""
        with self._engine.connect() as connection:
            for column in (classifications.c.id, classifications.c.document_id):
                row = connection.execute(_VIEW.where(column == id_or_document_id)).first()
                if row is not None:
                    return self._view(row)
        raise NotFound(f"no classification with id or document_id {id_or_document_id!r}")

    def find(
        self,
        *,
        status: ClassificationStatus | None = None,
        needs_review: bool | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[Classification]:
        """Oldest first (a review queue is worked in arrival order), `after` the (created_at, id)
        of the last one of the previous page: a page is stable while new documents arrive."""
        query = _VIEW
        if status is not None:
            query = query.where(_STATUS_FILTERS[status])
        if needs_review is not None:
            query = query.where(classifications.c.needs_review.is_(needs_review))
        if after is not None:
            created_at, last_id = after
            query = query.where(
                or_(
                    classifications.c.created_at > created_at,
                    and_(
                        classifications.c.created_at == created_at, classifications.c.id > last_id
                    ),
                )
            )
        query = query.order_by(classifications.c.created_at, classifications.c.id).limit(limit)
        with self._engine.connect() as connection:
            return [self._view(row) for row in connection.execute(query)]

    def record_result(self, result: ClassificationResult) -> bool:
        """Record the classifier's answer for one document; False if there was nothing to
        change (unknown document, or a result already recorded: the first one is kept)."""
        return self.record_results([result]) == 1

    def record_results(self, results: Iterable[ClassificationResult]) -> int:
        """Record several answers in one transaction (a batch); how many changed a row."""
        now = self._clock()
        with self._engine.begin() as connection:
            return sum(self._record(connection, result, now) for result in results)

    # -- storage ---------------------------------------------------------------------------------

    def _store(
        self, request: ClassificationRequest, correlation_id: str | None, *, holder: str | None
    ) -> tuple[Classification, bool]:
        """The document's classification, stored now with its outbox row unless it was there;
        with `holder`, a new outbox row is held for it in the same transaction."""
        _check_document_id(request.document_id)
        existing = self._existing(request)
        if existing is not None:
            return existing, False
        payload = canonical_json.dumps(request).decode()
        now = self._clock()
        held = False
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(classifications).values(
                        id=str(uuid.uuid4()),
                        document_id=request.document_id,
                        request=payload,
                        status=QUEUED,
                        created_at=now,
                    )
                )
                queue.add(
                    connection,
                    topic=TOPIC,
                    key=request.document_id,
                    payload=payload,
                    correlation_id=correlation_id,
                    now=now,
                )
                if holder is not None:
                    held = self._take_in(connection, request.document_id, holder, now)
        except IntegrityError:
            # The same document id arrived twice at once: the other request stored it first.
            existing = self._existing(request)
            if existing is None:
                raise
            return existing, False
        stored = self._by_document(request.document_id)
        assert stored is not None  # committed just now, and never deleted
        return self._view(stored), held

    def _by_document(self, document_id: str) -> Row[Any] | None:
        with self._engine.connect() as connection:
            return connection.execute(
                _VIEW.where(classifications.c.document_id == document_id)
            ).first()

    def _existing(self, request: ClassificationRequest) -> Classification | None:
        row = self._by_document(request.document_id)
        if row is None:
            return None
        if canonical_json.loads(ClassificationRequest, row.request) != request:
            raise KeyReused(
                f"document_id {request.document_id!r} was already submitted with another text, "
                "kind or language; give a new document a new document_id"
            )
        return self._view(row)

    def _record(self, connection: Connection, result: ClassificationResult, now: datetime) -> int:
        changed: int = connection.execute(
            update(classifications)
            .where(
                classifications.c.document_id == result.document_id,
                classifications.c.status != CLASSIFIED,
            )
            .values(
                status=CLASSIFIED,
                label=result.label,
                confidence=format(result.confidence, "f"),
                entities=canonical_json.dumps(result.entities).decode(),
                model_version=result.model_version,
                needs_review=result.confidence < self.review_threshold,
                classified_at=now,
            )
        ).rowcount
        return changed

    def _classify(
        self, request: ClassificationRequest, correlation_id: str | None
    ) -> ClassificationResult:
        reason = self.classifier.refusal(CLASSIFY_TEXT, request)
        if reason is not None:
            raise UpstreamRejected("classifier", f"{CLASSIFY_TEXT}: not sent: {reason}")
        for attempt in self._retry.retrying(failed_fast):
            with attempt:
                result: ClassificationResult = self.classifier.call(
                    CLASSIFY_TEXT, request, correlation_id=correlation_id
                )
        if result.document_id != request.document_id:
            raise UpstreamUnavailable(
                "classifier",
                f"{CLASSIFY_TEXT}: answered for document {result.document_id!r} instead",
            )
        return result

    # -- the document's outbox row, while classify_now holds it ----------------------------------

    def _take(self, document_id: str, holder: str) -> bool:
        with self._engine.begin() as connection:
            return self._take_in(connection, document_id, holder, self._clock())

    def _take_in(
        self, connection: Connection, document_id: str, holder: str, now: datetime
    ) -> bool:
        """Claim the row as a sync worker would (a pending row, or one whose lease ran out), so
        no job sends it while the caller's ClassifyText runs."""
        claimable = and_(
            outbox.c.topic == TOPIC,
            outbox.c.key == document_id,
            or_(
                outbox.c.status == queue.PENDING,
                and_(outbox.c.status == queue.CLAIMED, outbox.c.claimed_until < now),
            ),
        )
        taken: int = connection.execute(
            update(outbox)
            .where(claimable)
            .values(
                status=queue.CLAIMED,
                claimed_by=holder,
                claimed_until=now + self._hold,
                updated_at=now,
            )
        ).rowcount
        return taken == 1

    def _settle(self, document_id: str, holder: str, status: str, *, error: str) -> None:
        with self._engine.begin() as connection:
            self._settle_in(connection, document_id, holder, status, self._clock(), error=error)

    @staticmethod
    def _settle_in(
        connection: Connection,
        document_id: str,
        holder: str,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """End the hold with the attempt's outcome: delivered, dead, or pending again (due at
        once: the next run of the job takes it)."""
        values: dict[str, Any] = {
            "status": status,
            "attempts": outbox.c.attempts + 1,
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": now,
            "last_error": None if error is None else error[:2000],
        }
        if status == queue.DELIVERED:
            values.update(result=json.dumps(summary), delivered_at=now)
        elif status == queue.PENDING:
            values["available_at"] = now
        connection.execute(
            update(outbox)
            .where(
                outbox.c.topic == TOPIC,
                outbox.c.key == document_id,
                outbox.c.claimed_by == holder,
            )
            .values(**values)
        )

    def _release(self, document_id: str, holder: str) -> None:
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(
                    outbox.c.topic == TOPIC,
                    outbox.c.key == document_id,
                    outbox.c.claimed_by == holder,
                )
                .values(status=queue.PENDING, claimed_by=None, claimed_until=None, updated_at=now)
            )

    # -- reading ---------------------------------------------------------------------------------

    def _view(self, row: Row[Any]) -> Classification:
        request = canonical_json.loads(ClassificationRequest, row.request)
        if row.status == CLASSIFIED:
            status, error = ClassificationStatus.CLASSIFIED, None
        elif row.delivery == queue.DEAD:
            status, error = ClassificationStatus.DEAD, row.delivery_error
        else:
            status, error = ClassificationStatus.QUEUED, row.delivery_error
        return Classification(
            id=row.id,
            document_id=row.document_id,
            kind=request.kind,
            language=request.language,
            status=status,
            label=row.label,
            confidence=None if row.confidence is None else Decimal(row.confidence),
            entities=_entities(row.entities),
            model_version=row.model_version,
            needs_review=row.needs_review,
            error=error,
            created_at=as_utc(row.created_at),
            classified_at=as_utc(row.classified_at),
        )


def result_summary(result: ClassificationResult) -> dict[str, Any]:
    """What the outbox row keeps of the answer (the classification row keeps all of it)."""
    return {
        "label": result.label,
        "confidence": format(result.confidence, "f"),
        "model_version": result.model_version,
    }


def _entities(stored: str | None) -> list[Entity]:
    if not stored:
        return []
    return canonical_json.loads(list[Entity], stored)


def _check_document_id(document_id: str) -> None:
    """The one limit storage itself imposes; the door checks the rest of the contract."""
    if not 1 <= len(document_id) <= MAX_DOCUMENT_ID:
        raise MappingError(
            "document_id", f"1 to {MAX_DOCUMENT_ID} characters", document_id[:80] or None
        )
