"""Shipments as stored: the order and its outbox row (the booking), the partner's delivery events.

An order is stored with its outbox row (topic ``shipments``, key = OrderRef, the key the booking
service deduplicates on) in one transaction (`add`). Whatever changes a stored shipment happens
under `locked`: its first statement is a write on the shipment's row, which locks the row on
PostgreSQL and takes the database's write lock on SQLite before anything is read, so two events
of one shipment are applied one after the other; its row count also says whether the shipment
exists. Time columns hold UTC (SQLite keeps no offset).

A partner reaches only its own shipments: given a `partner_id`, another partner's shipment is
answered exactly as an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, Connection, Row, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import as_utc
from bridge.domain.errors import NotFound
from bridge.domain.shipping import (
    BookingState,
    DeliveryEvent,
    Shipment,
    ShipmentBooking,
    ShipmentDetails,
    ShipmentOrder,
    ShipmentStatus,
)
from bridge.mapping import canonical_json
from bridge.store import outbox
from bridge.store.base import Store
from bridge.store.tables import delivery_events, shipments

TOPIC = "shipments"
DEFAULT_LIMIT = 50

_VIEW = outbox.with_delivery(shipments, shipments.c.order_ref, TOPIC)
_BOOKED = shipments.c.tracking_no.is_not(None)
_DEAD, _QUEUED = outbox.delivery_filters(_BOOKED)
_BOOKING_FILTERS = {
    BookingState.BOOKED: _BOOKED,
    BookingState.DEAD: _DEAD,
    BookingState.QUEUED: _QUEUED,
}


@dataclass(frozen=True, slots=True)
class After:
    """Where a page of the shipment list continues: after this (created_at, shipment_ref)."""

    created_at: datetime
    shipment_ref: str


class ShipmentFilters(TypedDict, total=False):
    """Which shipments a list holds: with this status (of the latest event), this booking
    state, only `partner_id`'s, `after` the given (created_at, shipment_ref), so that pages
    neither skip nor repeat shipments while new ones arrive; at most `limit` (default 50)."""

    status: ShipmentStatus | None
    booking: BookingState | None
    after: After | None
    limit: int
    partner_id: str | None


def unknown(shipment_ref: str) -> NotFound:
    return NotFound(f"unknown shipment {shipment_ref!r}")


class LockedShipment:
    """One shipment inside the transaction that holds its row (`ShipmentStore.locked`)."""

    def __init__(self, connection: Connection, shipment_ref: str, now: datetime) -> None:
        self._connection = connection
        self._where = shipments.c.shipment_ref == shipment_ref
        self._now = now
        self.shipment_ref = shipment_ref
        self.tracking_no: str | None
        self.status: str | None
        self.booked_at: datetime | None
        self.tracking_no, self.status, self.booked_at = connection.execute(
            select(shipments.c.tracking_no, shipments.c.status, shipments.c.booked_at).where(
                self._where
            )
        ).one()

    def history(self) -> list[DeliveryEvent]:
        """The shipment's events, in the order they arrived."""
        return _events(self._connection, [self.shipment_ref])[self.shipment_ref]

    def add_event(self, event: DeliveryEvent, key: str) -> bool:
        """Add the event to the history under `key`; False when an event with that key is there
        already (a duplicate)."""
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(delivery_events).values(
            shipment_ref=event.shipment_ref,
            event_key=key,
            status=event.status.value,
            event_time=event.event_time.astimezone(UTC),
            event=canonical_json.dumps(event).decode(),
            received_at=self._now,
        )
        inserted = self._connection.execute(
            statement.on_conflict_do_nothing(
                index_elements=[delivery_events.c.event_key]
            ).returning(delivery_events.c.id)
        ).first()
        return inserted is not None

    def set_booking(self, booking: ShipmentBooking, estimated_delivery: date) -> None:
        """Keep the partner's booking; `booked_at` stays when it was first booked."""
        self._update(
            tracking_no=booking.tracking_no,
            label_url=booking.label_url,
            estimated_delivery=estimated_delivery,
            booked_at=self.booked_at or self._now,
        )

    def set_current(self, latest: DeliveryEvent, estimated_delivery: date | None) -> None:
        """Make `latest` the event that sets the current status (and the estimate, if any)."""
        values: dict[str, Any] = {
            "status": latest.status.value,
            "last_event_time": latest.event_time.astimezone(UTC),
        }
        if estimated_delivery is not None:
            values["estimated_delivery"] = estimated_delivery
        self._update(**values)

    def _update(self, **values: Any) -> None:
        self._connection.execute(
            update(shipments).where(self._where).values(updated_at=self._now, **values)
        )


class ShipmentStore(Store):
    def add(self, order: ShipmentOrder, *, partner_id: str, correlation_id: str | None) -> bool:
        """Store the shipment of `order` for `partner_id` with its outbox row, in one
        transaction; False when a shipment with its order_ref or shipment_ref was stored
        meanwhile (by a concurrent request)."""
        now = self.clock()
        payload = canonical_json.dumps(order).decode()
        try:
            with self.engine.begin() as connection:
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
                outbox.add(connection, TOPIC, order.order_ref, payload, correlation_id, now)
        except IntegrityError:
            if not self.orders_like(order):
                raise  # not the shipment's unique keys: e.g. a stale outbox row with its key
            return False
        return True

    def orders_like(self, order: ShipmentOrder) -> list[tuple[str, ShipmentOrder]]:
        """(partner id, order) of the stored shipments with the order_ref or the shipment_ref
        of `order`."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(shipments.c.partner_id, shipments.c.order).where(
                    or_(
                        shipments.c.order_ref == order.order_ref,
                        shipments.c.shipment_ref == order.shipment_ref,
                    )
                )
            ).all()
        return [(owner, canonical_json.loads(ShipmentOrder, stored)) for owner, stored in rows]

    @contextmanager
    def locked(
        self, shipment_ref: str, *, partner_id: str | None = None
    ) -> Iterator[LockedShipment]:
        """The shipment, its row locked until the block ends (committed, or rolled back by an
        exception). `NotFound` when there is no such shipment (of `partner_id`, if given)."""
        condition: ColumnElement[bool] = shipments.c.shipment_ref == shipment_ref
        if partner_id is not None:
            condition = and_(condition, shipments.c.partner_id == partner_id)
        now = self.clock()
        with self.engine.begin() as connection:
            # The row written to itself: the transaction's first statement, a write, locks it.
            touched = connection.execute(
                update(shipments).where(condition).values(updated_at=shipments.c.updated_at)
            ).rowcount
            if not touched:
                raise unknown(shipment_ref)
            yield LockedShipment(connection, shipment_ref, now)

    # -- reading ---------------------------------------------------------------------------------

    def details(self, shipment_ref: str, *, partner_id: str) -> ShipmentDetails | None:
        """One of `partner_id`'s shipments as the partner contract describes it."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(shipments).where(
                    shipments.c.shipment_ref == shipment_ref,
                    shipments.c.partner_id == partner_id,
                )
            ).first()
            if row is None:
                return None
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

    def get(self, reference: str, *, partner_id: str | None = None) -> Shipment | None:
        """The shipment whose shipment_ref is `reference`, else whose order_ref is; only among
        `partner_id`'s when given."""
        view = _VIEW if partner_id is None else _VIEW.where(shipments.c.partner_id == partner_id)
        with self.engine.connect() as connection:
            for column in (shipments.c.shipment_ref, shipments.c.order_ref):
                row = connection.execute(view.where(column == reference)).first()
                if row is not None:
                    return _shipments(connection, [row])[0]
        return None

    def list(self, **filters: Unpack[ShipmentFilters]) -> list[Shipment]:
        """Oldest first, keyset paging (`ShipmentFilters`)."""
        query = _VIEW
        if (partner_id := filters.get("partner_id")) is not None:
            query = query.where(shipments.c.partner_id == partner_id)
        if (status := filters.get("status")) is not None:
            query = query.where(shipments.c.status == status.value)
        if (booking := filters.get("booking")) is not None:
            query = query.where(_BOOKING_FILTERS[booking])
        if (after := filters.get("after")) is not None:
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
        query = query.order_by(shipments.c.created_at, shipments.c.shipment_ref)
        query = query.limit(filters.get("limit", DEFAULT_LIMIT))
        with self.engine.connect() as connection:
            return _shipments(connection, connection.execute(query).all())


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
    elif row.delivery == outbox.DEAD:
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
