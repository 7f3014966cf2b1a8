"""The partner door's input rules (README "Input rules"): a hostile value in any element of an
UpdateDeliveryStatus is a Client fault naming the element, or a valid event; never a Server
fault, and a refused event is not recorded."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import func, select
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.domain.shipping import ShipmentBooking
from bridge.mapping.scalars import escape
from bridge.store.tables import delivery_events
from tests.common.shipping import DATA, order
from tests.hostile import HOSTILE_STRINGS

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:bridge:partner:v1"
ELEMENTS = (
    "ShipmentRef",
    "TrackingNo",
    "StatusCode",
    "EventTime",
    "Location/City",
    "Location/CountryCode",
    "Location/Lat",
    "Location/Lon",
)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@pytest.fixture
def acme(app_bridge: Bridge) -> Client:
    """Partner acme's client, owner of the booked shipment SHP-2025-1001."""
    app_bridge.shipping.create(order(), partner_id="acme")
    app_bridge.shipping.record_booking(
        "SHP-2025-1001",
        ShipmentBooking(
            order_ref="ORD-2025-1001",
            tracking_no="CP0000TEST01DE",
            estimated_delivery=dt.date(2025, 3, 5),
        ),
    )
    return Client(app_bridge)


def update_with(element: str, value: str) -> bytes:
    """The UpdateDeliveryStatus request file, with coordinates, and `value` as `element`'s text
    (escaped for XML; raw when XML cannot carry it)."""
    text = (DATA / "update_delivery_status.xml").read_text("utf-8")
    text = text.replace(
        "</CountryCode>", "</CountryCode>\n        <Lat>50.9375</Lat><Lon>6.9603</Lon>"
    )
    name = element.rpartition("/")[2]
    written = value if NOT_XML.search(value) else escape(value)
    text, count = re.subn(
        rf"(<{name}>)[^<]*", lambda found: found.group(1) + written, text, count=1
    )
    assert count == 1
    return text.encode("utf-8", "surrogatepass")


def recorded(bridge: Bridge) -> int:
    with bridge.engine.connect() as connection:
        count: int = connection.execute(
            select(func.count()).select_from(delivery_events)
        ).scalar_one()
    return count


def post(client: Client, body: bytes) -> tuple[int, etree._Element]:
    response = client.post(
        "/soap/partner",
        data=body,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"UpdateDeliveryStatus"',
            "X-Test-Partner": "acme",
        },
    )
    return response.status_code, etree.fromstring(response.data)


@pytest.mark.parametrize("value", ["5.09375E+1", "\uff15\uff10.9", "\u0665\u0660.9", " 91"])
def test_latitude_not_a_contract_decimal_is_refused_naming_it(
    acme: Client, app_bridge: Bridge, value: str
) -> None:
    status, envelope = post(acme, update_with("Location/Lat", value))

    assert status == 500
    assert envelope.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode").endswith(":Client")
    field = envelope.findtext(f".//{{{PARTNER}}}ValidationFault/{{{PARTNER}}}Field")
    assert field == "UpdateDeliveryStatus/Location/Lat"
    assert recorded(app_bridge) == 0


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    element=st.sampled_from(ELEMENTS),
    value=st.sampled_from(sorted(HOSTILE_STRINGS.values())) | st.just(""),
)
def test_hostile_value_in_any_element_is_a_client_fault_naming_it_or_recorded(
    acme: Client, app_bridge: Bridge, element: str, value: str
) -> None:
    before = recorded(app_bridge)

    status, envelope = post(acme, update_with(element, value))

    if status == 200:
        return
    assert status == 500
    assert envelope.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode").endswith(":Client")
    if not NOT_XML.search(value):
        field = envelope.findtext(f".//{{{PARTNER}}}ValidationFault/{{{PARTNER}}}Field")
        assert field == f"UpdateDeliveryStatus/{element}", (element, value, field)
    assert recorded(app_bridge) == before
