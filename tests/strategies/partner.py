"""Canonical logistics-partner messages that fit wsdl/partner.wsdl."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from bridge.domain import (
    Address,
    DeliveryAck,
    DeliveryEvent,
    Location,
    ShipmentDetails,
    ShipmentQuery,
    ShipmentStatus,
)
from tests.strategies.common import COUNTRIES, DATES, DATETIMES, names, xml_text

SHIPMENT_REFS = st.from_regex(r"[A-Z0-9][A-Z0-9\-]{2,34}", fullmatch=True)  # ShipmentReference
TRACKING_NOS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-]{0,34}", fullmatch=True)  # TrackingNumber
STATUSES = st.sampled_from(ShipmentStatus)
CITIES = st.one_of(
    st.sampled_from(["Düsseldorf", "Thành phố Hồ Chí Minh", "東京", "Frankfurt am Main"]),
    xml_text(1, 35),
)


def degrees(limit: int) -> st.SearchStrategy[Decimal]:
    """Latitude (90) or longitude (180): 7 fraction digits, inside the range."""
    return st.decimals(
        min_value=-limit, max_value=limit, places=7, allow_nan=False, allow_infinity=False
    )


LOCATIONS = st.builds(
    Location,
    city=CITIES,
    country_code=COUNTRIES,
    lat=st.none() | degrees(90),
    lon=st.none() | degrees(180),
)

ADDRESSES = st.builds(
    Address,
    street=xml_text(1, 70),
    post_code=xml_text(1, 16),
    city=CITIES,
    country_code=COUNTRIES,
)

DELIVERY_EVENTS = st.builds(
    DeliveryEvent,
    shipment_ref=SHIPMENT_REFS,
    tracking_no=TRACKING_NOS,
    status=STATUSES,
    event_time=DATETIMES,
    location=LOCATIONS,
    estimated_delivery=st.none() | DATES,
    note=st.none() | xml_text(1, 500),
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    DeliveryEvent: DELIVERY_EVENTS,
    DeliveryAck: st.builds(
        DeliveryAck,
        shipment_ref=SHIPMENT_REFS,
        accepted=st.booleans(),
        duplicate=st.booleans(),
        current_status=STATUSES,
    ),
    ShipmentQuery: st.builds(ShipmentQuery, shipment_ref=SHIPMENT_REFS),
    ShipmentDetails: st.builds(
        ShipmentDetails,
        shipment_ref=SHIPMENT_REFS,
        order_ref=xml_text(1, 35),
        tracking_no=st.none() | TRACKING_NOS,
        current_status=st.none() | STATUSES,
        consignee_name=names(70),
        address=ADDRESSES,
        estimated_delivery=st.none() | DATES,
        events=st.lists(DELIVERY_EVENTS, max_size=3),
    ),
}
