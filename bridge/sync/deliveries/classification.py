"""Queued documents to the classifier: claimed rows become one ClassifyBatch, results come per
document and are recorded as they arrive.

The classifier applies each DocumentId once (shared between ClassifyText and ClassifyBatch), so
a batch resent after a crash, or a document classified meanwhile by a waiting caller, is
answered from the classifier's first result and classified once. A document the contract would
refuse is set aside as a dead letter before the batch is sent, so it cannot make the classifier
refuse the whole batch. Should the classifier still refuse a batch (a Client fault for a reason
its schema does not show), each document is sent alone with ClassifyText, so only the refused
ones become dead letters, with the classifier's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

from bridge.domain.classification import (
    ClassificationBatch,
    ClassificationBatchResult,
    ClassificationRequest,
    ClassificationResult,
)
from bridge.domain.errors import InvalidInput, UpstreamRejected, UpstreamUnavailable
from bridge.services.classification import (
    CLASSIFY_BATCH,
    CLASSIFY_TEXT,
    ClassificationService,
    result_summary,
)
from bridge.services.classification import OPERATIONS as OPERATIONS
from bridge.store.classifications import TOPIC
from bridge.sync.deliveries import read_rows
from bridge.sync.engine import Dead, Delivered, Outcome, Retry
from bridge.sync.outbox import OutboxRow


@dataclass(eq=False)
class ClassificationDeliverer:
    topic = TOPIC
    upstream = "classifier"

    service: ClassificationService
    _: KW_ONLY
    batch_size: int = 50

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        outcomes, read, rows_by_document = read_rows(
            rows, ClassificationRequest, lambda document: document.document_id
        )
        documents: list[ClassificationRequest] = []
        for document in read:
            reason = self.service.classifier.refusal(CLASSIFY_TEXT, document)
            if reason is None:
                documents.append(document)
            else:
                outcomes[rows_by_document.pop(document.document_id)] = Dead(reason)
        if not documents:
            return outcomes
        try:
            reply: ClassificationBatchResult = self.service.classifier.call(
                CLASSIFY_BATCH,
                ClassificationBatch(documents=documents),
                correlation_id=rows[0].correlation_id,
            )
        except UpstreamRejected as exc:
            if len(documents) == 1:
                outcomes[rows_by_document[documents[0].document_id]] = Dead(exc.detail)
            else:
                outcomes.update(self._one_by_one(documents, rows, rows_by_document))
            return outcomes
        answered = [r for r in reply.results if r.document_id in rows_by_document]
        self.service.record_results(answered)
        for result in answered:
            outcomes[rows_by_document[result.document_id]] = Delivered(result_summary(result))
        for document in documents:
            outcomes.setdefault(
                rows_by_document[document.document_id],
                Retry("the classifier answered nothing for this document"),
            )
        return outcomes

    def _one_by_one(
        self,
        documents: list[ClassificationRequest],
        rows: Sequence[OutboxRow],
        rows_by_document: dict[str, int],
    ) -> dict[int, Outcome]:
        """After a refused batch: each document alone, to find the ones the classifier refuses.
        Once the classifier turns unavailable, the rest wait for the next run."""
        correlation = {row.id: row.correlation_id for row in rows}
        outcomes: dict[int, Outcome] = {}
        for index, document in enumerate(documents):
            row_id = rows_by_document[document.document_id]
            try:
                result: ClassificationResult = self.service.classifier.call(
                    CLASSIFY_TEXT, document, correlation_id=correlation[row_id]
                )
            except UpstreamUnavailable as exc:
                for waiting in documents[index:]:
                    outcomes[rows_by_document[waiting.document_id]] = Retry(exc.detail)
                break
            except (UpstreamRejected, InvalidInput) as exc:
                outcomes[row_id] = Dead(exc.detail)
                continue
            if result.document_id != document.document_id:
                outcomes[row_id] = Retry("the classifier answered for another document")
                continue
            self.service.record_result(result)
            outcomes[row_id] = Delivered(result_summary(result))
        return outcomes
