"""Shipments: orders booked with the logistics partner through the outbox, and the partner's
delivery events coming back.

`create` stores the shipment and its outbox row (topic ``shipments``, key = OrderRef, the key
the booking service deduplicates on) in one transaction, so an order is booked exactly when it
is stored; the shipments job (`bridge.sync.deliveries.shipments`) books it and hands the booking
to `record_booking`. The order reference is the caller's idempotency key: the same order again
is the same shipment, the same `order_ref` with another order is refused (`KeyReused`), and so
is a `shipment_ref` that already names another shipment (a permanent clash, not something a
retry resolves, which is what a `Conflict` would tell a caller).

`record_event` applies a partner's delivery event in one transaction:

- a duplicate (same shipment, tracking number, status and instant, whatever its offset or
  wording) is acknowledged with ``duplicate=True`` and changes nothing;
- every other event is kept in the history, and the current status is recomputed from the
  whole history as the status of the event with the latest event time, so an event that
  arrives late changes nothing it should not; events at the same instant are ranked by the
  contract's lifecycle order (PICKED_UP ... RETURNED, the later wins), so the answer never
  depends on the order of arrival either;
- the estimated delivery is that of the latest event (by event time) that carries one, else
  the booking's.

Ownership: a shipment belongs to one logistics partner (`partner_id`). A partner's events and
queries reach only its own shipments; another partner's shipment is answered exactly as an
unknown one (`NotFound`, the same words), so nothing tells a partner that a reference exists.

Concurrency: two events of one shipment are applied one after the other. The transaction's
first statement is a write on the shipment's row, which locks the row on PostgreSQL and takes
the database's write lock on SQLite before anything is read; its row count also says whether
the caller's shipment exists. Time columns hold UTC (SQLite keeps no offset).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Unpack

from bridge.domain.errors import KeyReused, MappingError, NotFound
from bridge.domain.shipping import (
    DeliveryAck,
    DeliveryEvent,
    Shipment,
    ShipmentBooking,
    ShipmentDetails,
    ShipmentOrder,
    ShipmentStatus,
)
from bridge.store.shipments import After as After
from bridge.store.shipments import ShipmentFilters, ShipmentStore, unknown

# Events at the same instant: the status later in this order is the current one.
LIFECYCLE = tuple(ShipmentStatus)


def event_key(event: DeliveryEvent) -> str:
    """What makes two events the same event: shipment, tracking number, status and instant (an
    instant written with another offset is the same instant); location and note are not part of
    it, so a resent event with reworded details is still a duplicate."""
    instant = event.event_time.astimezone(UTC).isoformat()
    identity = "|".join((event.shipment_ref, event.tracking_no, event.status.value, instant))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def _rank(event: DeliveryEvent) -> tuple[datetime, int]:
    return event.event_time, LIFECYCLE.index(event.status)


def current_event(events: Iterable[DeliveryEvent]) -> DeliveryEvent | None:
    """The event that sets the current status: the latest by event time (ties: `LIFECYCLE`)."""
    return max(events, key=_rank, default=None)


def latest_estimate(events: Iterable[DeliveryEvent]) -> date | None:
    """The estimated delivery of the latest event (by event time) that carries one."""
    estimating = [event for event in events if event.estimated_delivery is not None]
    latest = current_event(estimating)
    return None if latest is None else latest.estimated_delivery


class ShippingService:
    def __init__(self, shipments: ShipmentStore) -> None:
        self._shipments = shipments

    # -- orders and bookings -------------------------------------------------------------------

    def create(
        self, order: ShipmentOrder, *, partner_id: str, correlation_id: str | None = None
    ) -> Shipment:
        """Store the shipment of `order` for logistics partner `partner_id` and queue its
        booking, in one transaction; the same order again answers the shipment already stored.
        """
        if not self._stored(order, partner_id) and not self._shipments.add(
            order, partner_id=partner_id, correlation_id=correlation_id
        ):
            # Another request stored this order_ref or shipment_ref between our look and our
            # insert: look again, and answer (or refuse) as if it had come first.
            stored = self._stored(order, partner_id)
            assert stored  # `add` says False only when it is there, and nothing deletes it
        return self.get(order.shipment_ref)

    def _stored(self, order: ShipmentOrder, partner_id: str) -> bool:
        """Whether `order` is stored already; `KeyReused` when its order_ref or shipment_ref
        belongs to another shipment."""
        found = self._shipments.orders_like(order)
        for owner, stored in found:
            _check_same_order(owner, stored, order, partner_id)
        return bool(found)

    def record_booking(self, shipment_ref: str, booking: ShipmentBooking) -> None:
        """Keep the partner's booking: tracking number, label, estimated delivery (unless an
        event has brought a newer estimate already). Recording the same booking again, as after
        a crash between the call and this, changes nothing but `updated_at`."""
        with self._shipments.locked(shipment_ref) as shipment:
            estimate = latest_estimate(shipment.history()) or booking.estimated_delivery
            shipment.set_booking(booking, estimate)

    # -- the partner's events and questions ----------------------------------------------------

    def record_event(self, event: DeliveryEvent, *, partner_id: str) -> DeliveryAck:
        """Apply a delivery event of one of `partner_id`'s shipments (see the module docstring);
        an unknown shipment, or another partner's, is `NotFound`."""
        ref = event.shipment_ref
        with self._shipments.locked(ref, partner_id=partner_id) as shipment:
            booked = shipment.tracking_no
            if booked is not None and event.tracking_no != booked:
                raise MappingError(
                    "tracking_no",
                    f"the tracking number shipment {ref} was booked under ({booked})",
                    event.tracking_no,
                )
            if not shipment.add_event(event, event_key(event)):
                assert shipment.status is not None  # set when the event first arrived
                return DeliveryAck(
                    shipment_ref=ref,
                    accepted=True,
                    duplicate=True,
                    current_status=ShipmentStatus(shipment.status),
                )
            history = shipment.history()
            latest = current_event(history)
            assert latest is not None  # the history holds at least this event
            shipment.set_current(latest, latest_estimate(history))
        return DeliveryAck(
            shipment_ref=ref, accepted=True, duplicate=False, current_status=latest.status
        )

    def details(self, shipment_ref: str, *, partner_id: str) -> ShipmentDetails:
        """One of `partner_id`'s shipments as the partner contract describes it."""
        found = self._shipments.details(shipment_ref, partner_id=partner_id)
        if found is None:
            raise unknown(shipment_ref)
        return found

    # -- reading, for the REST door ------------------------------------------------------------

    def get(self, reference: str, *, partner_id: str | None = None) -> Shipment:
        """The shipment whose shipment_ref is `reference`, else whose order_ref is; only among
        `partner_id`'s when given (another partner's is `NotFound`, like an unknown one)."""
        found = self._shipments.get(reference, partner_id=partner_id)
        if found is None:
            raise NotFound(f"no shipment with shipment_ref or order_ref {reference!r}")
        return found

    def list(self, **filters: Unpack[ShipmentFilters]) -> list[Shipment]:
        """Oldest first, keyset paging (`ShipmentFilters`); a partner's list (`partner_id`)
        holds only its own shipments."""
        return self._shipments.list(**filters)


def _check_same_order(
    owner: str, stored: ShipmentOrder, order: ShipmentOrder, partner_id: str
) -> None:
    """Refuse an order whose order_ref or shipment_ref is already another shipment's (of
    partner `owner`)."""
    if stored.order_ref == order.order_ref:
        if stored != order or owner != partner_id:
            raise KeyReused(
                f"order_ref {order.order_ref!r} was already used for another shipment order; "
                "use a new order_ref for a new order"
            )
    else:
        raise KeyReused(
            f"shipment_ref {order.shipment_ref!r} already names another shipment; "
            "choose another shipment_ref"
        )
