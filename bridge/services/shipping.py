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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import Clock, as_utc, utcnow
from bridge.domain.errors import KeyReused, MappingError, NotFound
from bridge.domain.shipping import (
    BookingState,
    DeliveryAck,
    DeliveryEvent,
    Shipment,
    ShipmentBooking,
    ShipmentDetails,
    ShipmentOrder,
    ShipmentStatus,
)
from bridge.mapping import canonical_json
from bridge.store.tables import delivery_events, outbox, shipments
from bridge.sync import outbox as queue

TOPIC = "shipments"
# Events at the same instant: the status later in this order is the current one.
LIFECYCLE = tuple(ShipmentStatus)

# The view of a shipment: its row, and the state of its outbox row (the booking).
_VIEW = select(
    shipments,
    outbox.c.status.label("delivery"),
    outbox.c.last_error.label("delivery_error"),
).select_from(
    shipments.outerjoin(
        outbox, and_(outbox.c.topic == TOPIC, outbox.c.key == shipments.c.order_ref)
    )
)
_BOOKED = shipments.c.tracking_no.is_not(None)
_BOOKING_FILTERS = {
    BookingState.BOOKED: _BOOKED,
    BookingState.DEAD: and_(~_BOOKED, outbox.c.status == queue.DEAD),
    BookingState.QUEUED: and_(
        ~_BOOKED, or_(outbox.c.status.is_(None), outbox.c.status != queue.DEAD)
    ),
}


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


@dataclass(frozen=True, slots=True)
class After:
    """Where a page of the shipment list continues: after this (created_at, shipment_ref)."""

    created_at: datetime
    shipment_ref: str


class ShippingService:
    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    # -- orders and bookings -------------------------------------------------------------------

    def create(
        self, order: ShipmentOrder, *, partner_id: str, correlation_id: str | None = None
    ) -> Shipment:
        """Store the shipment of `order` for logistics partner `partner_id` and queue its
        booking, in one transaction; the same order again answers the shipment already stored.
        """
        try:
            self._store(order, partner_id, correlation_id)
        except IntegrityError:
            # Another request stored this order_ref or shipment_ref between our look and our
            # insert: look again, and answer (or refuse) as if it had come first.
            self._store(order, partner_id, correlation_id)
        return self.get(order.shipment_ref)

    def _store(self, order: ShipmentOrder, partner_id: str, correlation_id: str | None) -> None:
        now = self._clock()
        with self._engine.begin() as connection:
            found = connection.execute(
                select(
                    shipments.c.shipment_ref,
                    shipments.c.order_ref,
                    shipments.c.partner_id,
                    shipments.c.order,
                ).where(
                    or_(
                        shipments.c.order_ref == order.order_ref,
                        shipments.c.shipment_ref == order.shipment_ref,
                    )
                )
            ).all()
            for row in found:
                _check_same_order(row, order, partner_id)
            if found:
                return
            payload = canonical_json.dumps(order).decode()
            connection.execute(
                insert(shipments).values(
                    shipment_ref=order.shipment_ref,
                    order_ref=order.order_ref,
                    partner_id=partner_id,
                    order=payload,
                    created_at=now,
                    updated_at=now,
                )
            )
            queue.add(
                connection,
                topic=TOPIC,
                key=order.order_ref,
                payload=payload,
                correlation_id=correlation_id,
                now=now,
            )

    def record_booking(self, shipment_ref: str, booking: ShipmentBooking) -> None:
        """Keep the partner's booking: tracking number, label, estimated delivery (unless an
        event has brought a newer estimate already). Recording the same booking again, as after
        a crash between the call and this, changes nothing but `updated_at`."""
        now = self._clock()
        with self._engine.begin() as connection:
            _lock(connection, shipments.c.shipment_ref == shipment_ref, shipment_ref)
            booked_at = connection.execute(
                select(shipments.c.booked_at).where(shipments.c.shipment_ref == shipment_ref)
            ).scalar_one()
            events = _events(connection, [shipment_ref])[shipment_ref]
            connection.execute(
                update(shipments)
                .where(shipments.c.shipment_ref == shipment_ref)
                .values(
                    tracking_no=booking.tracking_no,
                    label_url=booking.label_url,
                    estimated_delivery=latest_estimate(events) or booking.estimated_delivery,
                    booked_at=booked_at or now,  # when it was first booked
                    updated_at=now,
                )
            )

    # -- the partner's events and questions ----------------------------------------------------

    def record_event(self, event: DeliveryEvent, *, partner_id: str) -> DeliveryAck:
        """Apply a delivery event of one of `partner_id`'s shipments (see the module docstring);
        an unknown shipment, or another partner's, is `NotFound`."""
        ref = event.shipment_ref
        now = self._clock()
        with self._engine.begin() as connection:
            owned = and_(shipments.c.shipment_ref == ref, shipments.c.partner_id == partner_id)
            _lock(connection, owned, ref)
            booked, status = connection.execute(
                select(shipments.c.tracking_no, shipments.c.status).where(
                    shipments.c.shipment_ref == ref
                )
            ).one()
            if booked is not None and event.tracking_no != booked:
                raise MappingError(
                    "tracking_no",
                    f"the tracking number shipment {ref} was booked under ({booked})",
                    event.tracking_no,
                )
            if not _insert_event(connection, event, now):
                return DeliveryAck(
                    shipment_ref=ref,
                    accepted=True,
                    duplicate=True,
                    current_status=ShipmentStatus(status),
                )
            history = _events(connection, [ref])[ref]
            latest = current_event(history)
            assert latest is not None  # the history holds at least this event
            values: dict[str, Any] = {
                "status": latest.status.value,
                "last_event_time": latest.event_time.astimezone(UTC),
                "updated_at": now,
            }
            estimate = latest_estimate(history)
            if estimate is not None:
                values["estimated_delivery"] = estimate
            connection.execute(
                update(shipments).where(shipments.c.shipment_ref == ref).values(**values)
            )
        return DeliveryAck(
            shipment_ref=ref, accepted=True, duplicate=False, current_status=latest.status
        )

    def details(self, shipment_ref: str, *, partner_id: str) -> ShipmentDetails:
        """One of `partner_id`'s shipments as the partner contract describes it."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(shipments).where(
                    shipments.c.shipment_ref == shipment_ref,
                    shipments.c.partner_id == partner_id,
                )
            ).first()
            if row is None:
                raise _unknown(shipment_ref)
            events = _events(connection, [shipment_ref])[shipment_ref]
        order = canonical_json.loads(ShipmentOrder, row.order)
        return ShipmentDetails(
            shipment_ref=row.shipment_ref,
            order_ref=row.order_ref,
            tracking_no=row.tracking_no,
            current_status=None if row.status is None else ShipmentStatus(row.status),
            consignee_name=order.consignee.name,
            address=order.address,
            estimated_delivery=row.estimated_delivery,
            events=events,
        )

    # -- reading, for the REST door ------------------------------------------------------------

    def get(self, reference: str, *, partner_id: str | None = None) -> Shipment:
        """The shipment whose shipment_ref is `reference`, else whose order_ref is; only among
        `partner_id`'s when given (another partner's is `NotFound`, like an unknown one)."""
        view = _VIEW if partner_id is None else _VIEW.where(shipments.c.partner_id == partner_id)
        with self._engine.connect() as connection:
            for column in (shipments.c.shipment_ref, shipments.c.order_ref):
                row = connection.execute(view.where(column == reference)).first()
                if row is not None:
                    return _shipments(connection, [row])[0]
        raise NotFound(f"no shipment with shipment_ref or order_ref {reference!r}")

    def list(
        self,
        *,
        status: ShipmentStatus | None = None,
        booking: BookingState | None = None,
        after: After | None = None,
        limit: int = 50,
        partner_id: str | None = None,
    ) -> list[Shipment]:
        """Oldest first, `after` the given (created_at, shipment_ref): keyset paging, so pages
        neither skip nor repeat shipments while new ones arrive. Only `partner_id`'s, if given."""
        query = _VIEW
        if partner_id is not None:
            query = query.where(shipments.c.partner_id == partner_id)
        if status is not None:
            query = query.where(shipments.c.status == status.value)
        if booking is not None:
            query = query.where(_BOOKING_FILTERS[booking])
        if after is not None:
            at = after.created_at.astimezone(UTC)
            query = query.where(
                or_(
                    shipments.c.created_at > at,
                    and_(
                        shipments.c.created_at == at,
                        shipments.c.shipment_ref > after.shipment_ref,
                    ),
                )
            )
        query = query.order_by(shipments.c.created_at, shipments.c.shipment_ref).limit(limit)
        with self._engine.connect() as connection:
            return _shipments(connection, connection.execute(query).all())


def _check_same_order(row: Any, order: ShipmentOrder, partner_id: str) -> None:
    """Refuse an order whose order_ref or shipment_ref is already another shipment's."""
    if row.order_ref == order.order_ref:
        stored = canonical_json.loads(ShipmentOrder, row.order)
        if stored != order or row.partner_id != partner_id:
            raise KeyReused(
                f"order_ref {order.order_ref!r} was already used for another shipment order; "
                "use a new order_ref for a new order"
            )
    else:
        raise KeyReused(
            f"shipment_ref {order.shipment_ref!r} already names another shipment; "
            "choose another shipment_ref"
        )


def _unknown(shipment_ref: str) -> NotFound:
    return NotFound(f"unknown shipment {shipment_ref!r}")


def _lock(connection: Connection, condition: Any, shipment_ref: str) -> None:
    """Write the shipment's row to itself: the transaction's first statement, a write, locks it
    (see the module docstring). `NotFound` when no row meets `condition`."""
    touched = connection.execute(
        update(shipments).where(condition).values(updated_at=shipments.c.updated_at)
    ).rowcount
    if not touched:
        raise _unknown(shipment_ref)


def _insert_event(connection: Connection, event: DeliveryEvent, now: datetime) -> bool:
    """Add the event to the history; False when it is there already (a duplicate)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(delivery_events).values(
        shipment_ref=event.shipment_ref,
        event_key=event_key(event),
        status=event.status.value,
        event_time=event.event_time.astimezone(UTC),
        event=canonical_json.dumps(event).decode(),
        received_at=now,
    )
    inserted = connection.execute(
        statement.on_conflict_do_nothing(index_elements=[delivery_events.c.event_key]).returning(
            delivery_events.c.id
        )
    ).first()
    return inserted is not None


def _events(connection: Connection, refs: Sequence[str]) -> dict[str, list[DeliveryEvent]]:
    """The histories of these shipments, each in the order its events arrived."""
    found: dict[str, list[DeliveryEvent]] = {ref: [] for ref in refs}
    if not refs:
        return found
    rows = connection.execute(
        select(delivery_events.c.shipment_ref, delivery_events.c.event)
        .where(delivery_events.c.shipment_ref.in_(list(refs)))
        .order_by(delivery_events.c.id)
    )
    for ref, event in rows:
        found[ref].append(canonical_json.loads(DeliveryEvent, event))
    return found


def _shipments(connection: Connection, rows: Sequence[Row[Any]]) -> list[Shipment]:
    histories = _events(connection, [row.shipment_ref for row in rows])
    return [_shipment(row, histories[row.shipment_ref]) for row in rows]


def _shipment(row: Row[Any], events: list[DeliveryEvent]) -> Shipment:
    if row.tracking_no is not None:
        booking = BookingState.BOOKED
    elif row.delivery == queue.DEAD:
        booking = BookingState.DEAD
    else:
        booking = BookingState.QUEUED
    return Shipment(
        shipment_ref=row.shipment_ref,
        order_ref=row.order_ref,
        order=canonical_json.loads(ShipmentOrder, row.order),
        booking=booking,
        booking_error=None if booking is BookingState.BOOKED else row.delivery_error,
        tracking_no=row.tracking_no,
        label_url=row.label_url,
        estimated_delivery=row.estimated_delivery,
        status=None if row.status is None else ShipmentStatus(row.status),
        last_event_time=as_utc(row.last_event_time),
        created_at=as_utc(row.created_at),
        booked_at=as_utc(row.booked_at),
        events=events,
    )
