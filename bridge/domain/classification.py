"""Canonical messages of the AI classification service."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bridge.domain.common import canonical

__all__ = [
    "ClassificationBatch",
    "ClassificationBatchResult",
    "ClassificationRequest",
    "ClassificationResult",
    "DocumentKind",
    "Entity",
]


class DocumentKind(StrEnum):
    MESSAGE = "MESSAGE"
    INVOICE = "INVOICE"
    TICKET = "TICKET"


@canonical
class ClassificationRequest:
    document_id: str  # the idempotency key the classifier deduplicates on
    text: str
    kind: DocumentKind
    language: str | None = None


@canonical
class Entity:
    type: str
    value: str
    start: int | None = None
    end: int | None = None


@canonical
class ClassificationResult:
    document_id: str
    label: str
    confidence: Decimal
    entities: list[Entity] = field(default_factory=list)
    model_version: str


@canonical
class ClassificationBatch:
    documents: list[ClassificationRequest]  # at least one: the contract's Document is 1..n


@canonical
class ClassificationBatchResult:
    results: list[ClassificationResult] = field(default_factory=list)


class ClassificationStatus(StrEnum):
    """Where a document's classification stands: `queued` until the classifier has answered,
    `classified` once it has, `dead` when it was refused for good (the reason is in `error`;
    an operator's replay of the dead letter queues it again)."""

    QUEUED = "queued"
    CLASSIFIED = "classified"
    DEAD = "dead"


@canonical
class Classification:
    """A document's classification as the bridge keeps it: what was asked, and the classifier's
    answer once there is one. `needs_review` is true when the confidence is under the review
    threshold, so a person looks before anything acts on the label. `error` says why the last
    attempt failed (a queued one will be tried again, a dead one will not)."""

    id: str
    document_id: str
    kind: DocumentKind
    language: str | None = None
    status: ClassificationStatus
    label: str | None = None
    confidence: Decimal | None = None  # exact, as the classifier sent it ("0.8125")
    entities: list[Entity] = field(default_factory=list)
    model_version: str | None = None
    needs_review: bool | None = None
    error: str | None = None
    created_at: datetime
    classified_at: datetime | None = None
