"""Shipment orders to the logistics partner's booking service: one CreateShipment per row (the
contract has no batch form), each booking recorded on its shipment.

Every message carries the OrderRef, which the booking service deduplicates on: an order sent
again after a crash, a lost reply or a timeout is booked once and answered with the first
booking, so a row is simply sent again until it has an answer.

Each row has its own outcome. A booking is recorded on the shipment (tracking number, label,
estimated delivery) and the row is delivered. An order the partner refuses (a Client fault:
a country it does not serve, a parcel too heavy), one that does not fit the partner's contract,
and a row that cannot be read are dead letters with the reason, for that row only.

The partner being unavailable (timeout, HTTP 5xx, Server fault, dropped connection, a reply that
is no readable booking) speaks for the rest of the batch: the order may have been booked, so the
row is sent again, never set aside as refused. On the first row it is raised, so that the
engine retries the whole batch later, ends the run and counts a failure on the circuit breaker.
After some rows were booked it is not raised, since an exception would discard their outcomes
and leave bookings unrecorded until the retry: the booked rows are returned as delivered, the
failed row and the rows not yet sent as retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

from bridge.domain.errors import NotFound, UpstreamRejected, UpstreamUnavailable
from bridge.domain.shipping import ShipmentBooking, ShipmentOrder
from bridge.domain.upstream import Logistics
from bridge.services.shipping import ShippingService
from bridge.store.shipments import TOPIC
from bridge.sync.deliveries import payload_of
from bridge.sync.engine import Dead, Delivered, Outcome, Retry
from bridge.sync.outbox import OutboxRow

CREATE_SHIPMENT = "CreateShipment"
OPERATIONS = {CREATE_SHIPMENT: ("logistics/shipment_order", "logistics/shipment_booking")}


@dataclass(eq=False)
class ShipmentsDeliverer:
    topic = TOPIC
    upstream = "logistics"

    logistics: Logistics
    shipping: ShippingService
    _: KW_ONLY
    batch_size: int = 50

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        for index, row in enumerate(rows):
            try:
                outcomes[row.id] = self._book(row)
            except UpstreamUnavailable as exc:
                if not any(isinstance(outcome, Delivered) for outcome in outcomes.values()):
                    raise
                outcomes[row.id] = Retry(exc.detail)
                for untried in rows[index + 1 :]:
                    outcomes[untried.id] = Retry(f"not sent: {exc.detail}")
                break
        return outcomes

    def _book(self, row: OutboxRow) -> Outcome:
        """One row's outcome; `UpstreamUnavailable` when the partner gave no answer to go by."""
        order = payload_of(row, ShipmentOrder)
        if isinstance(order, Dead):
            return order
        reason = self.logistics.refusal(CREATE_SHIPMENT, order)
        if reason is not None:
            return Dead(reason)
        try:
            booking: ShipmentBooking = self.logistics.call(
                CREATE_SHIPMENT, order, correlation_id=row.correlation_id
            )
        except UpstreamRejected as exc:
            return Dead(f"refused by logistics: {exc.detail}")
        if booking.order_ref != order.order_ref:  # no answer about ours: it may be booked
            return Retry(
                f"logistics answered for OrderRef {booking.order_ref!r}, not {order.order_ref!r}"
            )
        try:
            self.shipping.record_booking(order.shipment_ref, booking)
        except NotFound as exc:  # the row outlived its shipment: nothing to record it on
            return Dead(f"booked as {booking.tracking_no}, but {exc.detail}")
        return Delivered(
            {
                "tracking_no": booking.tracking_no,
                "estimated_delivery": booking.estimated_delivery.isoformat(),
                "label_url": booking.label_url,
            }
        )
