"""A classifier as a test wants it: answers from a table, remembers every call, fails on request.
Injected into a real `ClassificationService` over the real database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.domain.classification import (
    ClassificationBatch,
    ClassificationBatchResult,
    ClassificationRequest,
    ClassificationResult,
    Entity,
)
from bridge.domain.errors import UpstreamRejected, UpstreamUnavailable


@dataclass
class FakeClassifier:
    # document_id -> confidence it answers (0.9000 when not named).
    confidences: dict[str, Decimal] = field(default_factory=dict)
    # document_id -> the reason the contract would refuse it (checked before sending).
    refused: dict[str, str] = field(default_factory=dict)
    # Documents the classifier answers with a Client fault (in a batch: the whole batch).
    rejected: set[str] = field(default_factory=set)
    # Documents a batch reply leaves out.
    forgotten: set[str] = field(default_factory=set)
    # Raised by the next calls, in order.
    failures: list[Exception] = field(default_factory=list)
    # Calls after this many fail as unavailable: a classifier going down in the middle of a run.
    down_after: int | None = None
    calls: list[tuple[str, list[str]]] = field(default_factory=list)

    def refusal(self, operation: str, message: Any) -> str | None:
        return self.refused.get(message.document_id)

    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any:
        documents: list[ClassificationRequest] = (
            message.documents if isinstance(message, ClassificationBatch) else [message]
        )
        self.calls.append((operation, [d.document_id for d in documents]))
        if self.failures:
            raise self.failures.pop(0)
        if self.down_after is not None and len(self.calls) > self.down_after:
            raise UpstreamUnavailable("classifier", f"{operation}: HTTP 500")
        refused = [d.document_id for d in documents if d.document_id in self.rejected]
        if refused:
            raise UpstreamRejected("classifier", f"{operation}: refused (Client): {refused[0]}")
        if operation == "ClassifyText":
            return self.result(documents[0])
        return ClassificationBatchResult(
            results=[self.result(d) for d in documents if d.document_id not in self.forgotten]
        )

    def result(self, document: ClassificationRequest) -> ClassificationResult:
        return ClassificationResult(
            document_id=document.document_id,
            label=f"label-of-{document.kind.value.lower()}",
            confidence=self.confidences.get(document.document_id, Decimal("0.9000")),
            entities=[Entity(type="WORD", value=document.text.split()[0], start=0)],
            model_version="fake-1",
        )

    def sent(self, operation: str | None = None) -> list[str]:
        """Document ids sent, in order, over every call (of one operation if named)."""
        return [d for op, ids in self.calls if operation in (None, op) for d in ids]
