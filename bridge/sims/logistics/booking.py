"""How the logistics partner books a shipment (rules and tables in `data/logistics.yaml`).

Refusals, checked in this order, are SOAP Client faults and book nothing (the contract's result
has no status): a country not in `served_countries` -> `Client.CountryNotServed`; a parcel
heavier than the service level takes -> `Client.ParcelTooHeavy`. A refused OrderRef can be
booked once the request is corrected.

A booking gets:
- TrackingNo = the service level's two-letter prefix, 12 base32 characters of SHA-256(OrderRef)
  and the home country, e.g. "EN" + "K3JZQ4M2XA7B" + "DE": the same for the same OrderRef on
  every node, and within the contract's pattern [A-Z0-9]{8,35};
- EstimatedDelivery = the booking date (UTC) plus the service level's business days, domestic
  or international (weekends skipped, no public holidays);
- LabelUrl = `{simulator}/labels/<TrackingNo>`, a plain-text label the simulator serves.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bridge.sims.context import Wire


@dataclass(frozen=True)
class BookingRules:
    home_country: str
    tracking_prefix: Mapping[str, str]
    business_days: Mapping[str, Mapping[str, int]]
    max_parcel_weight_grams: Mapping[str, int]
    served_countries: frozenset[str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BookingRules:
        return cls(
            home_country=str(data["home_country"]),
            tracking_prefix=dict(data["tracking_prefix"]),
            business_days={level: dict(days) for level, days in data["business_days"].items()},
            max_parcel_weight_grams=dict(data["max_parcel_weight_grams"]),
            served_countries=frozenset(data["served_countries"]),
        )


def refusal(details: Wire, rules: BookingRules) -> tuple[str, str] | None:
    """(fault subcode, text) when the booking is refused; None when it can be booked."""
    country = details["Address"]["CountryCode"]
    if country not in rules.served_countries:
        return "CountryNotServed", f"No deliveries to {country}"
    level = details["ServiceLevel"]
    limit = rules.max_parcel_weight_grams[level]
    for number, parcel in enumerate(details["Parcel"], start=1):
        if int(parcel["WeightGrams"]) > limit:
            return (
                "ParcelTooHeavy",
                f"Parcel {number} weighs more than {limit} g, the {level} limit",
            )
    return None


def tracking_no(order_ref: str, level: str, rules: BookingRules) -> str:
    digest = hashlib.sha256(order_ref.encode("utf-8")).digest()
    serial = base64.b32encode(digest).decode("ascii")[:12]
    return f"{rules.tracking_prefix[level]}{serial}{rules.home_country}"


def estimated_delivery(booked: date, level: str, country: str, rules: BookingRules) -> date:
    reach = "domestic" if country == rules.home_country else "international"
    remaining = rules.business_days[level][reach]
    day = booked
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


def label_text(request: Wire, response: Wire) -> str:
    details = request["ShippingDetails"]
    consignee, address, parcels = details["Consignee"], details["Address"], details["Parcel"]
    weight = sum(int(parcel["WeightGrams"]) for parcel in parcels)
    lines = [
        f"Tracking number: {response['TrackingNo']}",
        f"Order: {details['OrderRef']}   Shipment: {details['ShipmentRef']}",
        f"Service: {details['ServiceLevel']}   Estimated delivery: {response['EstimatedDelivery']}",
        "",
        consignee["Name"],
        address["Street"],
        f"{address['PostCode']} {address['City']}",
        address["CountryCode"],
        "",
        f"Parcels: {len(parcels)}, {weight} g",
    ]
    return "\n".join(lines) + "\n"
