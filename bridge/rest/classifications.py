"""`/api/v1/classifications`: have a document classified, read the result, work the review queue.

`POST` queues the document for the nightly classification job and answers `202 Accepted` with
the queued classification and its `Location`. With `?wait=true` (a chat that needs the label
now) the classifier is asked at once and the answer is `200` with the result; when the
classifier is unavailable the document stays queued and the answer is the same `202` as
without `wait`, with the reason in `error`: the caller is not given an error for something
the bridge will finish on its own.

The status code follows the classification's state, not which request created it: `202` while
queued, `200` once it is settled (classified, or dead with the reason in `error`). A second
`POST` of the same `document_id` with the same text, kind and language answers the existing
classification the same way, so a retry cannot tell itself from the first request, and never
classifies twice; the same `document_id` with another text is a 422. The body must fit the
classifier's contract (ids up to 64 characters, a two-letter lower-case language, a text of
at most 20,000 characters), as it would be refused there anyway, only later and silently.
"""

from __future__ import annotations

from flask import Response, url_for
from pydantic import Field

from bridge.domain.classification import (
    Classification,
    ClassificationRequest,
    ClassificationStatus,
)
from bridge.rest.auth import protect
from bridge.rest.blueprint import resource
from bridge.rest.cursor import decode_after, encode_after, one_page
from bridge.rest.fields import SparseFields, fields_parameter
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import answers, queued_or_settled, request_body
from bridge.rest.params import Parameters, cursor_parameter, limit_parameter, reference_parameter
from bridge.rest.schemas import ClassificationList, JsonBody
from bridge.rest.wire import bridge, canonical_response, correlation_id, page_response

classifications = resource(
    "classifications",
    __name__,
    "Document classification (labels, confidence, entities) and the human review queue",
)

CLASSIFICATION_REQUEST = JsonBody(ClassificationRequest)
CLASSIFICATION_FIELDS = SparseFields(Classification)
CONTRACT = "classifier/classify_text"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
FIELDS_EXAMPLE = "id,status,label,entities.type"


class SubmitQuery(Parameters):
    wait: bool = Field(
        default=False,
        description="Classify at once and answer the result (200); if the classifier is "
        "unavailable the document stays queued (202)",
    )


class ClassificationPath(Parameters):
    id: str = reference_parameter(
        64, "The classification's id, or the document_id it was submitted with"
    )


class ReadQuery(Parameters):
    fields: str | None = fields_parameter(FIELDS_EXAMPLE)


class ListQuery(Parameters):
    status: ClassificationStatus | None = Field(
        default=None, description="Only classifications in this state"
    )
    needs_review: bool | None = Field(
        default=None,
        description="`true`: only results under the review threshold (the human review "
        "queue); `false`: only results at or above it",
    )
    limit: int = limit_parameter(DEFAULT_LIMIT, MAX_LIMIT, "Classifications")
    cursor: str | None = cursor_parameter()
    fields: str | None = fields_parameter(FIELDS_EXAMPLE, of="of each item")


@classifications.post(
    "/classifications",
    operation_id="createClassification",
    summary="Have a document classified",
    description="Queues the document for the nightly classification job (202). With "
    "`wait=true` it is classified at once (200 with the result), or stays queued (202) if the "
    "classifier is unavailable. `document_id` is your reference and the key the classifier "
    "deduplicates on: the same document again answers the existing classification; the same "
    "`document_id` with another text, kind or language is a 422.",
    responses=queued_or_settled(
        "Classification",
        "Queued: the classification job (or a later `wait=true`) will classify it; when "
        "`wait=true` found the classifier unavailable, `error` says why",
        "Settled: classified (label, confidence, entities, needs_review), or dead with the "
        "reason in `error`",
        "Where the classification can be read",
        problems=(400, 415, 422),
    ),
    openapi_extensions=request_body(
        CLASSIFICATION_REQUEST, "The document; `document_id` is your reference"
    ),
)
@idempotent
@protect("classifications:write", "private")
def create_classification(query: SubmitQuery) -> Response:
    """The classifier's contract is checked here, at the door, so a document it would refuse
    is a 400 naming the field now rather than a dead letter after the nightly run."""
    request = CLASSIFICATION_REQUEST.read()
    bridge().contracts.check(CONTRACT, request)
    service = bridge().classification
    classify = service.classify_now if query.wait else service.submit
    record = classify(request, correlation_id=correlation_id())
    status = 202 if record.status is ClassificationStatus.QUEUED else 200
    location = url_for("classifications.get_classification", id=record.id)
    return canonical_response(record, status=status, headers={"Location": location})


@classifications.get(
    "/classifications/<path:id>",
    operation_id="getClassification",
    summary="Read a classification",
    description="`id` is the classification's `id` or the `document_id` you gave it (looked "
    "up as an `id` first). `needs_review` is true when the confidence is under the review "
    "threshold.",
    responses=answers("Classification", "The classification as it stands", 404),
)
@protect("classifications:read", "private")
def get_classification(path: ClassificationPath, query: ReadQuery) -> Response:
    fields = CLASSIFICATION_FIELDS.parse(query.fields)
    return canonical_response(bridge().classification.get(path.id), fields=fields)


@classifications.get(
    "/classifications",
    operation_id="listClassifications",
    summary="List classifications (the review queue)",
    description="Oldest first, at most `limit` per page; pass `next_cursor` as `cursor` for "
    "the next page (null on the last). `needs_review=true` lists the results a person should "
    "look at; `status=dead` the documents that could not be classified, with the reason.",
    responses=answers("ClassificationList", "One page of classifications"),
)
@protect("classifications:read", "private")
def list_classifications(query: ListQuery) -> Response:
    """Keyset paging on (created_at, id): a cursor names the last item seen, so pages neither
    skip nor repeat items while new documents arrive, and any filter or limit can follow it."""
    fields = CLASSIFICATION_FIELDS.parse(query.fields)
    after = None if query.cursor is None else decode_after(query.cursor)
    page, next_cursor = one_page(
        lambda limit: bridge().classification.find(
            status=query.status, needs_review=query.needs_review, after=after, limit=limit
        ),
        query.limit,
        lambda last: encode_after(last.created_at, last.id),
    )
    listed = ClassificationList(classifications=page, next_cursor=next_cursor)
    return page_response(listed, "classifications", fields)
