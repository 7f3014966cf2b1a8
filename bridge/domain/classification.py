"""Canonical messages of the AI classification service."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class DocumentKind(StrEnum):
    MESSAGE = "MESSAGE"
    INVOICE = "INVOICE"
    TICKET = "TICKET"


@dataclass(slots=True, kw_only=True)
class ClassificationRequest:
    document_id: str  # the idempotency key the classifier deduplicates on
    text: str
    kind: DocumentKind
    language: str | None = None


@dataclass(slots=True, kw_only=True)
class Entity:
    type: str
    value: str
    start: int | None = None
    end: int | None = None


@dataclass(slots=True, kw_only=True)
class ClassificationResult:
    document_id: str
    label: str
    confidence: Decimal
    entities: list[Entity] = field(default_factory=list)
    model_version: str


@dataclass(slots=True, kw_only=True)
class ClassificationBatch:
    documents: list[ClassificationRequest]  # at least one: the contract's Document is 1..n


@dataclass(slots=True, kw_only=True)
class ClassificationBatchResult:
    results: list[ClassificationResult] = field(default_factory=list)
