"""Classifications as stored: each document's row, and its outbox row for the classification job.

A document is stored with its outbox row in one transaction (`add`), so the promise to classify
it commits with it. A caller waiting for the answer holds the outbox row meanwhile (`hold`), and
its answer is recorded in the same transaction that settles the row (`record_held`), so the job
never sends the document again. The first result recorded for a document is kept.

Where a classification stands is read from both rows: `classifications.status` says whether a
result was recorded (queued | classified); whether it is dead is the state of its outbox row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection, Row, and_, insert, or_, update
from sqlalchemy.exc import IntegrityError

from bridge.domain.classification import (
    Classification,
    ClassificationRequest,
    ClassificationResult,
    ClassificationStatus,
    Entity,
)
from bridge.domain.clock import as_utc
from bridge.mapping import canonical_json
from bridge.store import outbox
from bridge.store.base import Store
from bridge.store.tables import classifications

TOPIC = "classification"
DEFAULT_LIMIT = 50
QUEUED, CLASSIFIED = ClassificationStatus.QUEUED.value, ClassificationStatus.CLASSIFIED.value

_VIEW = outbox.with_delivery(classifications, classifications.c.document_id, TOPIC)
_CLASSIFIED = classifications.c.status == CLASSIFIED
_DEAD, _QUEUED = outbox.delivery_filters(_CLASSIFIED)
_STATUS_FILTERS = {
    ClassificationStatus.CLASSIFIED: _CLASSIFIED,
    ClassificationStatus.DEAD: _DEAD,
    ClassificationStatus.QUEUED: _QUEUED,
}


class ClassificationFilters(TypedDict, total=False):
    """Which classifications a list holds: in this status, flagged for review or not, `after`
    the (created_at, id) of the last one of the previous page, so that a page is stable while
    new documents arrive; at most `limit` (default 50)."""

    status: ClassificationStatus | None
    needs_review: bool | None
    after: tuple[datetime, str] | None
    limit: int


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A stored document: what was asked (to tell a retry from a reused document id) and where
    its classification stands."""

    request: ClassificationRequest
    classification: Classification


class ClassificationStore(Store):
    # -- storing and holding ---------------------------------------------------------------------

    def add(
        self,
        request: ClassificationRequest,
        *,
        correlation_id: str | None,
        holder: str | None = None,
        hold: timedelta = timedelta(0),
    ) -> bool | None:
        """Store `request` as queued with its outbox row in one transaction; with `holder`, the
        new outbox row is held for it for `hold` in the same transaction. Whether it is held,
        or None when the document was stored meanwhile by another request."""
        payload = canonical_json.dumps(request).decode()
        now = self.clock()
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(classifications).values(
                        id=str(uuid.uuid4()),
                        document_id=request.document_id,
                        request=payload,
                        status=QUEUED,
                        created_at=now,
                    )
                )
                outbox.add(connection, TOPIC, request.document_id, payload, correlation_id, now)
                return holder is not None and self._hold(
                    connection, request.document_id, holder, now + hold, now
                )
        except IntegrityError:
            if self.document(request.document_id) is None:
                raise  # not the document's unique id: something else is wrong
            return None

    def hold(self, document_id: str, holder: str, hold: timedelta) -> bool:
        """Hold the document's outbox row for `holder` (see `bridge.store.outbox.hold`)."""
        now = self.clock()
        with self.engine.begin() as connection:
            return self._hold(connection, document_id, holder, now + hold, now)

    @staticmethod
    def _hold(
        connection: Connection, document_id: str, holder: str, until: datetime, now: datetime
    ) -> bool:
        return outbox.hold(
            connection, topic=TOPIC, key=document_id, holder=holder, until=until, now=now
        )

    def failed(self, document_id: str, holder: str, error: str, *, dead: bool) -> None:
        """End `holder`'s hold on a failed attempt: dead, or pending again (due at once: the
        next run of the job takes it)."""
        now = self.clock()
        with self.engine.begin() as connection:
            outbox.settle_held(
                connection,
                topic=TOPIC,
                key=document_id,
                holder=holder,
                now=now,
                error=error,
                retry_at=None if dead else now,
            )

    def release(self, document_id: str, holder: str) -> None:
        """Give `holder`'s row back untouched: the attempt said nothing about the document."""
        with self.engine.begin() as connection:
            outbox.release_held(
                connection, topic=TOPIC, key=document_id, holder=holder, now=self.clock()
            )

    # -- recording answers -----------------------------------------------------------------------

    def record(self, results: Iterable[ClassificationResult], *, review_below: Decimal) -> int:
        """Record the classifier's answers in one transaction (a batch); how many changed a row.
        A result for an unknown document, or one already classified, changes nothing: the first
        one is kept. `review_below`: a confidence under it flags the result for review."""
        now = self.clock()
        with self.engine.begin() as connection:
            return sum(_record(connection, result, review_below, now) for result in results)

    def record_held(
        self,
        result: ClassificationResult,
        *,
        review_below: Decimal,
        holder: str | None,
        summary: dict[str, Any],
    ) -> None:
        """Record a waiting caller's answer and, in the same transaction, settle the outbox row
        it holds (with `summary` as its result): the job never sends the document again."""
        now = self.clock()
        with self.engine.begin() as connection:
            _record(connection, result, review_below, now)
            if holder is not None:
                outbox.settle_held(
                    connection,
                    topic=TOPIC,
                    key=result.document_id,
                    holder=holder,
                    now=now,
                    result=summary,
                )

    # -- reading ---------------------------------------------------------------------------------

    def document(self, document_id: str) -> StoredDocument | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                _VIEW.where(classifications.c.document_id == document_id)
            ).first()
        if row is None:
            return None
        return StoredDocument(canonical_json.loads(ClassificationRequest, row.request), _view(row))

    def get(self, id_or_document_id: str) -> Classification | None:
        """By the bridge's id first, then by the caller's document id."""
        with self.engine.connect() as connection:
            for column in (classifications.c.id, classifications.c.document_id):
                row = connection.execute(_VIEW.where(column == id_or_document_id)).first()
                if row is not None:
                    return _view(row)
        return None

    def find(self, **filters: Unpack[ClassificationFilters]) -> list[Classification]:
        """Oldest first, keyset paging (`ClassificationFilters`)."""
        query = _VIEW
        if (status := filters.get("status")) is not None:
            query = query.where(_STATUS_FILTERS[status])
        if (needs_review := filters.get("needs_review")) is not None:
            query = query.where(classifications.c.needs_review.is_(needs_review))
        if (after := filters.get("after")) is not None:
            created_at, last_id = after
            query = query.where(
                or_(
                    classifications.c.created_at > created_at,
                    and_(
                        classifications.c.created_at == created_at, classifications.c.id > last_id
                    ),
                )
            )
        query = query.order_by(classifications.c.created_at, classifications.c.id)
        query = query.limit(filters.get("limit", DEFAULT_LIMIT))
        with self.engine.connect() as connection:
            return [_view(row) for row in connection.execute(query)]


def _record(
    connection: Connection, result: ClassificationResult, review_below: Decimal, now: datetime
) -> int:
    changed: int = connection.execute(
        update(classifications)
        .where(classifications.c.document_id == result.document_id, ~_CLASSIFIED)
        .values(
            status=CLASSIFIED,
            label=result.label,
            confidence=format(result.confidence, "f"),
            entities=canonical_json.dumps(result.entities).decode(),
            model_version=result.model_version,
            needs_review=result.confidence < review_below,
            classified_at=now,
        )
    ).rowcount
    return changed


def _view(row: Row[Any]) -> Classification:
    request = canonical_json.loads(ClassificationRequest, row.request)
    if row.status == CLASSIFIED:
        status, error = ClassificationStatus.CLASSIFIED, None
    else:
        dead = row.delivery == outbox.DEAD
        status = ClassificationStatus.DEAD if dead else ClassificationStatus.QUEUED
        error = row.delivery_error
    return Classification(
        id=row.id,
        document_id=row.document_id,
        kind=request.kind,
        language=request.language,
        status=status,
        label=row.label,
        confidence=None if row.confidence is None else Decimal(row.confidence),
        entities=canonical_json.loads(list[Entity], row.entities) if row.entities else [],
        model_version=row.model_version,
        needs_review=row.needs_review,
        error=error,
        created_at=as_utc(row.created_at),
        classified_at=as_utc(row.classified_at),
    )
