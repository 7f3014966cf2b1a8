"""Canonical logistics booking messages that fit wsdl/upstream/logistics.wsdl."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bridge.domain import (
    Address,
    Consignee,
    Parcel,
    ServiceLevel,
    ShipmentBooking,
    ShipmentOrder,
)
from tests.strategies.common import COUNTRIES, DATES, names, xml_text

REFERENCES = st.one_of(  # OrderRef, ShipmentRef: 1..35 characters, any script
    st.sampled_from(["ORD-2025-000123", "SHP-000123", "注文-2025-000124", "Đơn-hàng/7"]),
    xml_text(1, 35),
)
PHONES = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)  # Phone: E.164
# Email: [^@\s]+@[^@\s]+\.[^@\s]+ with at most 254 characters; XSD's \s is space, tab, CR, LF.
_EMAIL_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="@ "
)
_EMAIL_PART = st.text(_EMAIL_CHARS, min_size=1, max_size=40)
EMAILS = st.one_of(
    st.sampled_from(["juergen.grossmann@example.de", "jürgen@bäckerei-weiß.de", "山田@例え.jp"]),
    st.builds(
        lambda user, host, tld: f"{user}@{host}.{tld}", _EMAIL_PART, _EMAIL_PART, _EMAIL_PART
    ),
)
POST_CODES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 \-]{0,15}", fullmatch=True)  # PostCode
CITIES = st.one_of(
    st.sampled_from(["Berlin", "Thành phố Hồ Chí Minh", "東京都千代田区", "Mönchengladbach"]),
    xml_text(1, 100),
)
STREETS = st.one_of(
    st.sampled_from(
        ["Straße des 17. Juni 135", "12 Đường Nguyễn Huệ, Phường Bến Nghé", "千代田1-1"]
    ),
    xml_text(1, 140),
)
TRACKING_NOS = st.from_regex(r"[A-Z0-9]{8,35}", fullmatch=True)  # TrackingNo
# LabelUrl is an xs:anyURI: https URLs with unreserved and percent-encoded path characters.
_URL_SEGMENT = st.from_regex(r"(?:[A-Za-z0-9._~\-]|%[0-9A-F]{2}){1,20}", fullmatch=True)
LABEL_URLS = st.builds(
    lambda host, segments, query: f"https://{host}/{'/'.join(segments)}{query}",
    st.from_regex(r"[a-z0-9]{1,12}(?:\.[a-z0-9]{1,12}){0,2}\.[a-z]{2,6}", fullmatch=True),
    st.lists(_URL_SEGMENT, min_size=1, max_size=4),
    st.sampled_from(["", "?format=A6", "?format=PDF&lang=de"]),
)

CONSIGNEES = st.builds(
    Consignee, name=names(140), phone=st.none() | PHONES, email=st.none() | EMAILS
)
ADDRESSES = st.builds(
    Address, street=STREETS, post_code=POST_CODES, city=CITIES, country_code=COUNTRIES
)
DIMENSIONS = st.integers(1, 1000)  # DimensionCm
PARCELS = st.builds(
    Parcel,
    weight_grams=st.integers(1, 1_000_000),  # WeightGrams
    length_cm=DIMENSIONS,
    width_cm=DIMENSIONS,
    height_cm=DIMENSIONS,
    description=st.none() | xml_text(1, 140),
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    ShipmentOrder: st.builds(
        ShipmentOrder,
        order_ref=REFERENCES,
        shipment_ref=REFERENCES,
        service_level=st.sampled_from(ServiceLevel),
        consignee=CONSIGNEES,
        address=ADDRESSES,
        parcels=st.lists(PARCELS, min_size=1, max_size=4),  # 1..n <Parcel>
    ),
    ShipmentBooking: st.builds(
        ShipmentBooking,
        order_ref=REFERENCES,
        tracking_no=TRACKING_NOS,
        estimated_delivery=DATES,
        label_url=st.none() | LABEL_URLS,
    ),
    Consignee: CONSIGNEES,
    Parcel: PARCELS,
}
