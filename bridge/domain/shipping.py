"""Canonical logistics messages: shipment orders, bookings and delivery events."""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bridge.domain.common import canonical


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
