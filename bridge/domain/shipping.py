"""Canonical logistics messages: shipment orders, bookings and delivery events."""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bridge.domain.common import canonical

__all__ = [
    "Address",
    "Consignee",
    "DeliveryAck",
    "DeliveryEvent",
    "Location",
    "Parcel",
    "ServiceLevel",
    "ShipmentBooking",
    "ShipmentDetails",
    "ShipmentOrder",
    "ShipmentQuery",
    "ShipmentStatus",
]


class ShipmentStatus(StrEnum):
    PICKED_UP = "PICKED_UP"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"
    RETURNED = "RETURNED"


class ServiceLevel(StrEnum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"
    OVERNIGHT = "OVERNIGHT"


@canonical
class Address:
    street: str
    post_code: str
    city: str
    country_code: str


@canonical
class Consignee:
    name: str
    phone: str | None = None
    email: str | None = None


@canonical
class Parcel:
    weight_grams: int
    length_cm: int
    width_cm: int
    height_cm: int
    description: str | None = None


@canonical
class ShipmentOrder:
    order_ref: str  # the idempotency key the logistics partner deduplicates on
    shipment_ref: str
    service_level: ServiceLevel
    consignee: Consignee
    address: Address
    parcels: list[Parcel]  # at least one: the contract's Parcel is 1..n


@canonical
class ShipmentBooking:
    order_ref: str
    tracking_no: str
    estimated_delivery: date
    label_url: str | None = None


@canonical
class Location:
    city: str
    country_code: str
    lat: Decimal | None = None
    lon: Decimal | None = None


@canonical
class DeliveryEvent:
    shipment_ref: str
    tracking_no: str
    status: ShipmentStatus
    event_time: datetime
    location: Location
    estimated_delivery: date | None = None
    note: str | None = None


@canonical
class DeliveryAck:
    shipment_ref: str
    accepted: bool
    duplicate: bool
    current_status: ShipmentStatus


@canonical
class ShipmentQuery:
    shipment_ref: str


@canonical
class ShipmentDetails:
    shipment_ref: str
    order_ref: str
    tracking_no: str | None = None
    current_status: ShipmentStatus | None = None
    consignee_name: str
    address: Address
    estimated_delivery: date | None = None
    events: list[DeliveryEvent] = field(default_factory=list)


class BookingState(StrEnum):
    """Where a shipment's booking with the logistics partner stands: `queued` until the
    shipments job has booked it, `booked` once the partner answered with a tracking number,
    `dead` when the partner (or its contract) refused the order for good; the reason is then in
    `booking_error`, and an operator's replay of the dead letter queues it again."""

    QUEUED = "queued"
    BOOKED = "booked"
    DEAD = "dead"


@canonical
class Shipment:
    """A shipment as the bridge keeps it: the order, its booking and the partner's events.

    `status` is the status of the event with the latest `event_time`, not of the latest to
    arrive (partners send events out of order), and None until the first event; `events` is
    the history in the order the events arrived, duplicates left out. `estimated_delivery` is
    the estimate of the latest event that carried one, else the booking's. `booking_error` says
    why the last booking attempt failed (a queued booking will be tried again, a dead one not).
    """

    shipment_ref: str
    order_ref: str
    order: ShipmentOrder
    booking: BookingState
    booking_error: str | None = None
    tracking_no: str | None = None
    label_url: str | None = None
    estimated_delivery: date | None = None
    status: ShipmentStatus | None = None
    last_event_time: datetime | None = None
    created_at: datetime
    booked_at: datetime | None = None
    events: list[DeliveryEvent] = field(default_factory=list)
