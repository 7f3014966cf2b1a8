"""`/api/v1/shipments`: hand an order over for delivery, follow its booking and tracking.

`POST` stores the shipment and queues its booking with the logistics partner (the shipments job
runs every minute) and answers `202 Accepted` with the shipment and its `Location`. The status
code follows the booking's state, not which request created it: `202` while the booking is
queued, `200` once it is settled (booked with a tracking number, or dead with the reason in
`booking_error`). The `order_ref` is your reference and the key the partner deduplicates on: the
same order again answers the existing shipment and books nothing twice; the same `order_ref`
with another order, or a `shipment_ref` that already names another shipment, is a 422.

The order must fit two contracts, and is refused with a 400 naming the field otherwise: the
booking service's (lengths, E.164 phone numbers, weights), where it goes now, and the partner
contract's (a `shipment_ref` of capitals, digits and dashes, names and streets of at most 70
characters), in which the partner will call back about it and ask for it.

`status` is the delivery status the partner reported last by event time (an event that arrives
late does not set it back); `events` is the history as it arrived.
"""

from __future__ import annotations

from flask import Response, url_for
from pydantic import Field

from bridge.domain.errors import MappingError
from bridge.domain.shipping import (
    BookingState,
    Shipment,
    ShipmentDetails,
    ShipmentOrder,
    ShipmentStatus,
)
from bridge.rest import cursor
from bridge.rest.auth import principal, protect
from bridge.rest.blueprint import resource
from bridge.rest.fields import SparseFields, fields_parameter
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import answers, queued_or_settled, request_body
from bridge.rest.params import Parameters, cursor_parameter, limit_parameter, reference_parameter
from bridge.rest.schemas import JsonBody, ShipmentList
from bridge.rest.wire import bridge, canonical_response, correlation_id, page_response
from bridge.services.shipping import After

shipments = resource(
    "shipments", __name__, "Orders handed to the logistics partner, their bookings and tracking"
)

SHIPMENT_ORDER = JsonBody(ShipmentOrder)
SHIPMENT_FIELDS = SparseFields(Shipment)
BOOKING_CONTRACT = "logistics/shipment_order"
PARTNER_CONTRACT = "partner/shipping_details"
# Fields of the partner's view of a shipment, by the order field they come from.
_ORDER_FIELD = {"consignee_name": "consignee.name"}
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
FIELDS_EXAMPLE = "shipment_ref,status,tracking_no,events.status"


class ShipmentPath(Parameters):
    id: str = reference_parameter(
        35, "The shipment's shipment_ref, or the order_ref it was created with"
    )


class ReadQuery(Parameters):
    fields: str | None = fields_parameter(FIELDS_EXAMPLE)


class ListQuery(Parameters):
    status: ShipmentStatus | None = Field(
        default=None, description="Only shipments whose current delivery status is this"
    )
    booking: BookingState | None = Field(
        default=None,
        description="Only shipments whose booking is in this state (`dead`: refused by the "
        "logistics partner, with the reason in `booking_error`)",
    )
    limit: int = limit_parameter(DEFAULT_LIMIT, MAX_LIMIT, "Shipments")
    cursor: str | None = cursor_parameter()
    fields: str | None = fields_parameter(FIELDS_EXAMPLE, of="of each item")


@shipments.post(
    "/shipments",
    operation_id="createShipment",
    summary="Hand an order over for delivery",
    description="Stores the shipment and queues its booking with the logistics partner (202). "
    "`order_ref` is your reference and the partner's idempotency key: the same order again "
    "answers the existing shipment (200 once booked); the same `order_ref` with another order, "
    "or a `shipment_ref` already in use, is a 422.",
    responses=queued_or_settled(
        "Shipment",
        "Stored, its booking queued: the shipments job books it with the logistics partner",
        "The order was handed over before and its booking is settled: booked (tracking_no, "
        "label_url, estimated_delivery), or dead with the reason in `booking_error`",
        "Where the shipment can be read",
        problems=(400, 415, 422),
    ),
    openapi_extensions=request_body(
        SHIPMENT_ORDER, "The order; `order_ref` is your reference, `shipment_ref` the partner's"
    ),
)
@idempotent
@protect("shipments:write", "private")
def create_shipment() -> Response:
    """Both contracts are checked here, at the door: an order the partner would refuse is a
    400 naming the field now, rather than a dead letter a minute later or a shipment the
    partner cannot call back about."""
    order = SHIPMENT_ORDER.read()
    bridge().contracts.check(BOOKING_CONTRACT, order)
    _check_partner_contract(order)
    shipment = bridge().shipping.create(
        order,
        partner_id=bridge().settings.logistics_partner,
        correlation_id=correlation_id(),
    )
    status = 202 if shipment.booking is BookingState.QUEUED else 200
    location = url_for("shipments.get_shipment", id=shipment.shipment_ref)
    return canonical_response(shipment, status=status, headers={"Location": location})


def _check_partner_contract(order: ShipmentOrder) -> None:
    """The order as the partner will see it must fit the partner contract; a misfit is named
    by the order's own field."""
    seen = ShipmentDetails(
        shipment_ref=order.shipment_ref,
        order_ref=order.order_ref,
        consignee_name=order.consignee.name,
        address=order.address,
    )
    try:
        bridge().contracts.check(PARTNER_CONTRACT, seen)
    except MappingError as exc:
        path = _ORDER_FIELD.get(exc.path, exc.path)
        raise MappingError(path, f"{exc.expected}, in the partner contract", exc.got) from None


@shipments.get(
    "/shipments/<path:id>",
    operation_id="getShipment",
    summary="Read a shipment",
    description="`id` is the `shipment_ref` or the `order_ref` (looked up as a `shipment_ref` "
    "first). Shows the booking (`booking`, `tracking_no`, `label_url`), the current delivery "
    "`status` (of the latest event by event time) and the event history.",
    responses=answers("Shipment", "The shipment as it stands", 404),
)
@protect("shipments:read", "partner", "private")
def get_shipment(path: ShipmentPath, query: ReadQuery) -> Response:
    fields = SHIPMENT_FIELDS.parse(query.fields)
    found = bridge().shipping.get(path.id, partner_id=_own_partner())
    return canonical_response(found, fields=fields)


@shipments.get(
    "/shipments",
    operation_id="listShipments",
    summary="List shipments",
    description="Oldest first, at most `limit` per page; pass `next_cursor` as `cursor` for the "
    "next page (null on the last). `status=DELIVERED` lists the delivered ones, "
    "`booking=dead` those the logistics partner refused.",
    responses=answers("ShipmentList", "One page of shipments"),
)
@protect("shipments:read", "partner", "private")
def list_shipments(query: ListQuery) -> Response:
    fields = SHIPMENT_FIELDS.parse(query.fields)
    after = None if query.cursor is None else After(*cursor.decode_after(query.cursor))
    page, next_cursor = cursor.one_page(
        lambda limit: bridge().shipping.list(
            status=query.status,
            booking=query.booking,
            after=after,
            limit=limit,
            partner_id=_own_partner(),
        ),
        query.limit,
        _cursor,
    )
    return page_response(ShipmentList(shipments=page, next_cursor=next_cursor), "shipments", fields)


def _own_partner() -> str | None:
    """A partner reads only the shipments booked with it (`Principal.partner`); our own
    (private) clients read every shipment."""
    caller = principal()
    if caller is None or caller.tier == "private":
        return None
    return caller.partner


def _cursor(last: Shipment) -> str:
    return cursor.encode_after(last.created_at, last.shipment_ref)
