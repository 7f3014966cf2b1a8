"""spyne models of `wsdl/upstream/classifier.wsdl`, in the contract's element order."""

from __future__ import annotations

from spyne import Decimal, Integer32, Unicode

from bridge.sims.soap import model, optional, repeated, required

NS = "urn:classifier:v1"

ClassifyTextRequest = model(
    NS,
    "ClassifyTextRequest",
    [
        ("DocumentId", required(Unicode)),
        ("Text", required(Unicode)),
        ("Kind", required(Unicode)),
        ("Language", optional(Unicode)),
    ],
)

Entity = model(
    NS,
    "Entity",
    [
        ("Type", required(Unicode)),
        ("Value", required(Unicode)),
        ("Start", optional(Integer32)),
        ("End", optional(Integer32)),
    ],
)

ClassifyTextResult = model(
    NS,
    "ClassifyTextResult",
    [
        ("DocumentId", required(Unicode)),
        ("Label", required(Unicode)),
        ("Confidence", required(Decimal)),
        ("Entity", repeated(Entity)),
        ("ModelVersion", required(Unicode)),
    ],
)

ClassifyBatchRequest = model(
    NS, "ClassifyBatchRequest", [("Document", repeated(ClassifyTextRequest, min_occurs=1))]
)

ClassifyBatchResult = model(NS, "ClassifyBatchResult", [("Result", repeated(ClassifyTextResult))])
