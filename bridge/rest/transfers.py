"""`/api/v1/transfers`: send a transfer, read its status.

The body of `POST` is the canonical `TransferRequest`; its `msg_id` is the client's own
reference and, as for a partner bank's MsgId, a second transfer with the same `msg_id` returns
the first one's result instead of moving money twice (`Idempotency-Key` adds replay of the very
first response on top).
"""

from __future__ import annotations

from flask import Response, url_for

from bridge.domain import TransferRequest, TransferResult, TransferStatusQuery
from bridge.domain.errors import NotFound
from bridge.rest.auth import protect
from bridge.rest.blueprint import resource
from bridge.rest.fields import SparseFields, fields_parameter
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import request_body, responses, success
from bridge.rest.params import Parameters, reference_parameter
from bridge.rest.schemas import JsonBody
from bridge.rest.wire import DOOR, bridge, canonical_response, client_id, correlation_id

transfers = resource("transfers", __name__, "Money transfers and their status")

TRANSFER_REQUEST = JsonBody(TransferRequest)
TRANSFER_FIELDS = SparseFields(TransferResult)


class TransferPath(Parameters):
    id: str = reference_parameter(35, "The transfer's tx_id, or the msg_id the client gave it")


class ReadQuery(Parameters):
    fields: str | None = fields_parameter("tx_id,status,reason.code")


@transfers.post(
    "/transfers",
    operation_id="createTransfer",
    summary="Send a transfer",
    description="Answers 201 with the transfer's result once core banking has answered: `ACSC` "
    "settled, `PDNG` pending review, `RJCT` rejected with a reason. A transfer whose `msg_id` "
    "was already used returns that transfer's result and moves no money; the same `msg_id` "
    "with a different body is a 422.",
    responses=responses(
        201,
        success(
            "TransferResult",
            "The transfer as stored: settled, pending or rejected (see `status`)",
            {"Location": "Where the transfer's status can be read"},
        ),
        problems=(400, 415, 422, 503),
    ),
    openapi_extensions=request_body(TRANSFER_REQUEST, "The transfer; `msg_id` is your reference"),
)
@idempotent
@protect("transfers:write", "partner", "private")
def create_transfer() -> Response:
    """The service stores the transfer before core banking hears of it; Location names it.
    The request must fit the banking contract, exactly as the SOAP door's TransferFunds does."""
    request = TRANSFER_REQUEST.read()
    bridge().contracts.check("banking/transfer_request", request)
    result = bridge().banking.transfer_funds(
        request,
        client_id=client_id(),
        door=DOOR,
        correlation_id=correlation_id(),
    )
    location = url_for("transfers.get_transfer", id=result.tx_id)
    return canonical_response(result, status=201, headers={"Location": location})


@transfers.get(
    "/transfers/<path:id>",
    operation_id="getTransfer",
    summary="Read a transfer's status",
    description="`id` is a `tx_id` or the `msg_id` you gave the transfer: it is looked up as a "
    "`tx_id` first, then as a `msg_id`. A transfer still pending is refreshed from core banking "
    "before it is answered.",
    responses=responses(
        200, success("TransferResult", "The transfer's current status"), problems=(400, 404, 503)
    ),
)
@protect("transfers:read", "partner", "private")
def get_transfer(path: TransferPath, query: ReadQuery) -> Response:
    """tx_id first: a msg_id equal to another transfer's tx_id finds that transfer only by its
    tx_id. Both lookups are scoped to the caller, so nobody reads another client's transfer."""
    fields = TRANSFER_FIELDS.parse(query.fields)
    banking, caller, cid = bridge().banking, client_id(), correlation_id()
    for lookup in (TransferStatusQuery(tx_id=path.id), TransferStatusQuery(msg_id=path.id)):
        try:
            result = banking.transfer_status(lookup, client_id=caller, correlation_id=cid)
        except NotFound:
            continue
        return canonical_response(result, fields=fields)
    raise NotFound(f"no transfer with tx_id or msg_id {path.id!r}")
