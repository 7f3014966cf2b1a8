"""Canonical logistics messages: shipment orders, bookings and delivery events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


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


@dataclass(slots=True, kw_only=True)
class Address:
    street: str
    post_code: str
    city: str
    country_code: str


@dataclass(slots=True, kw_only=True)
class Consignee:
    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(slots=True, kw_only=True)
class Parcel:
    weight_grams: int
    length_cm: int
    width_cm: int
    height_cm: int
    description: str | None = None


@dataclass(slots=True, kw_only=True)
class ShipmentOrder:
    order_ref: str  # the idempotency key the logistics partner deduplicates on
    shipment_ref: str
    service_level: ServiceLevel
    consignee: Consignee
    address: Address
    parcels: list[Parcel]  # at least one: the contract's Parcel is 1..n


@dataclass(slots=True, kw_only=True)
class ShipmentBooking:
    order_ref: str
    tracking_no: str
    estimated_delivery: date
    label_url: str | None = None


@dataclass(slots=True, kw_only=True)
class Location:
    city: str
    country_code: str
    lat: Decimal | None = None
    lon: Decimal | None = None


@dataclass(slots=True, kw_only=True)
class DeliveryEvent:
    shipment_ref: str
    tracking_no: str
    status: ShipmentStatus
    event_time: datetime
    location: Location
    estimated_delivery: date | None = None
    note: str | None = None


@dataclass(slots=True, kw_only=True)
class DeliveryAck:
    shipment_ref: str
    accepted: bool
    duplicate: bool
    current_status: ShipmentStatus


@dataclass(slots=True, kw_only=True)
class ShipmentQuery:
    shipment_ref: str


@dataclass(slots=True, kw_only=True)
class ShipmentDetails:
    shipment_ref: str
    order_ref: str
    tracking_no: str | None = None
    current_status: ShipmentStatus | None = None
    consignee_name: str
    address: Address
    estimated_delivery: date | None = None
    events: list[DeliveryEvent] = field(default_factory=list)
