"""Canonical messages of the AI classification service."""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from enum import StrEnum

from bridge.domain.common import canonical


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
