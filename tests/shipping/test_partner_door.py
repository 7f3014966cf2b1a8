"""The partner door as a logistics partner uses it: the whole bridge on a loopback port, zeep
reading ``/soap/partner?wsdl``; raw `requests` where zeep cannot produce the broken input.

Partner "acme" owns the shipment SHP-2025-1001 (booked as CP0000TEST01DE); partner "other"
owns nothing. Each zeep client speaks for one partner (`AsPartner`, tests/shipping/conftest.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
import zeep
from sqlalchemy import func, select
from zeep.exceptions import Fault as ZeepFault
from zeep.transports import Transport

from bridge.domain.shipping import ShipmentBooking
from bridge.store.tables import delivery_events
from tests.common.live import LiveBridge
from tests.common.shipping import DATA, AsPartner, order
from tests.common.soap import FAULT_INFO, no_stack_trace

pytestmark = pytest.mark.slow

PARTNER = "urn:bridge:partner:v1"
HARDENED = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
SHIPMENT = "SHP-2025-1001"
TRACKING = "CP0000TEST01DE"
BERLIN = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture
def partner_bridge(live_bridge: LiveBridge) -> LiveBridge:
    """`live_bridge` with acme's shipment booked, callers named by ``X-Test-Partner``."""
    live_bridge.bridge.wsgi = AsPartner(live_bridge.bridge.wsgi, live_bridge.bridge.engine)
    shipping = live_bridge.bridge.shipping
    shipping.create(order(), partner_id="acme")
    shipping.record_booking(
        SHIPMENT,
        ShipmentBooking(
            order_ref="ORD-2025-1001", tracking_no=TRACKING, estimated_delivery=dt.date(2025, 3, 5)
        ),
    )
    return live_bridge


def partner(live: LiveBridge, name: str = "acme") -> Any:
    """A partner's zeep client: WSDL from the bridge, hardened parsing, timeouts."""
    session = requests.Session()
    session.headers["X-Test-Partner"] = name
    transport = Transport(session=session, timeout=15, operation_timeout=15)
    return zeep.Client(f"{live.url}/soap/partner?wsdl", transport=transport, settings=HARDENED)


def update(client: Any, status: str, at: dt.datetime, **more: Any) -> Any:
    return client.service.UpdateDeliveryStatus(
        ShipmentRef=more.pop("ShipmentRef", SHIPMENT),
        TrackingNo=TRACKING,
        StatusCode=status,
        EventTime=at,
        Location={"City": more.pop("City", "Köln"), "CountryCode": "DE"},
        **more,
    )


def history_rows(live: LiveBridge) -> int:
    with live.bridge.engine.connect() as connection:
        count: int = connection.execute(
            select(func.count()).select_from(delivery_events)
        ).scalar_one()
    return count


def detail(fault: ZeepFault, path: str) -> str | None:
    assert fault.detail is not None
    found: str | None = fault.detail.findtext(path, namespaces={"p": PARTNER, "f": FAULT_INFO})
    return found


def post_raw(live: LiveBridge, body: bytes, action: str, partner_name: str = "acme") -> Any:
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{action}"',
        "X-Test-Partner": partner_name,
    }
    return requests.post(f"{live.url}/soap/partner", data=body, headers=headers, timeout=15)


# -- the contract, through zeep -----------------------------------------------------------------


def test_zeep_binds_both_operations_at_the_public_address(partner_bridge: LiveBridge) -> None:
    client = partner(partner_bridge)
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()

    assert port.binding_options["address"] == f"{partner_bridge.url}/soap/partner"
    assert set(port.binding._operations) == {"UpdateDeliveryStatus", "GetShippingDetails"}


def test_an_event_is_acknowledged_with_the_current_status(partner_bridge: LiveBridge) -> None:
    ack = update(
        partner(partner_bridge),
        "PICKED_UP",
        dt.datetime(2025, 3, 3, 9, 0, tzinfo=BERLIN),
        EstimatedDelivery=dt.date(2025, 3, 6),
        Note="Abgeholt an der Rampe 3",
    )

    assert (ack.ShipmentRef, ack.Accepted, ack.Duplicate, ack.CurrentStatus) == (
        SHIPMENT,
        True,
        False,
        "PICKED_UP",
    )


def test_get_shipping_details_answers_the_partners_own_shipment(partner_bridge: LiveBridge) -> None:
    client = partner(partner_bridge)
    update(client, "PICKED_UP", dt.datetime(2025, 3, 3, 9, 0, tzinfo=BERLIN))

    details = client.service.GetShippingDetails(ShipmentRef=SHIPMENT)

    assert (details.ShipmentRef, details.OrderRef, details.TrackingNo) == (
        SHIPMENT,
        "ORD-2025-1001",
        TRACKING,
    )
    assert details.CurrentStatus == "PICKED_UP"
    assert details.Consignee.Nm == "Jürgen Weiß"
    assert details.Consignee.Address.City == "Düsseldorf"
    assert details.EstimatedDelivery == dt.date(2025, 3, 5)
    assert [event.StatusCode for event in details.Event] == ["PICKED_UP"]


def test_a_duplicate_event_is_acknowledged_as_such_and_kept_once(
    partner_bridge: LiveBridge,
) -> None:
    client = partner(partner_bridge)
    at = dt.datetime(2025, 3, 4, 10, 0, tzinfo=BERLIN)
    first = update(client, "IN_TRANSIT", at)

    again = update(client, "IN_TRANSIT", at)

    assert (first.Duplicate, again.Duplicate) == (False, True)
    assert again.Accepted is True
    assert again.CurrentStatus == "IN_TRANSIT"
    assert history_rows(partner_bridge) == 1
    assert len(client.service.GetShippingDetails(ShipmentRef=SHIPMENT).Event) == 1


def test_out_of_order_events_are_kept_and_the_latest_event_time_sets_the_status(
    partner_bridge: LiveBridge,
) -> None:
    client = partner(partner_bridge)
    delivered = update(client, "DELIVERED", dt.datetime(2025, 3, 4, 14, 0, tzinfo=BERLIN))

    late = update(client, "IN_TRANSIT", dt.datetime(2025, 3, 4, 10, 0, tzinfo=BERLIN))

    assert (delivered.CurrentStatus, late.CurrentStatus) == ("DELIVERED", "DELIVERED")
    assert (late.Accepted, late.Duplicate) == (True, False)
    details = client.service.GetShippingDetails(ShipmentRef=SHIPMENT)
    assert details.CurrentStatus == "DELIVERED"
    assert [event.StatusCode for event in details.Event] == ["DELIVERED", "IN_TRANSIT"]
    assert history_rows(partner_bridge) == 2


def test_an_event_for_an_unknown_shipment_is_a_client_fault_naming_shipment_ref(
    partner_bridge: LiveBridge,
) -> None:
    with pytest.raises(ZeepFault) as refused:
        update(
            partner(partner_bridge),
            "PICKED_UP",
            dt.datetime(2025, 3, 3, 9, 0, tzinfo=BERLIN),
            ShipmentRef="SHP-2025-9999",
        )

    fault = refused.value
    assert fault.code == "soap:Client"
    assert detail(fault, "p:ValidationFault/p:Field") == "UpdateDeliveryStatus/ShipmentRef"
    assert detail(fault, "p:ValidationFault/p:Reason") == "unknown shipment 'SHP-2025-9999'"
    assert detail(fault, "f:FaultInfo/f:Kind") == "not-found"
    assert history_rows(partner_bridge) == 0


def test_another_partners_shipment_is_answered_as_unknown_and_left_alone(
    partner_bridge: LiveBridge,
) -> None:
    other = partner(partner_bridge, "other")

    with pytest.raises(ZeepFault) as asked:
        other.service.GetShippingDetails(ShipmentRef=SHIPMENT)
    with pytest.raises(ZeepFault) as told:
        update(other, "DELIVERED", dt.datetime(2025, 3, 4, 14, 0, tzinfo=BERLIN))

    for fault, operation in (
        (asked.value, "GetShippingDetails"),
        (told.value, "UpdateDeliveryStatus"),
    ):
        assert fault.code == "soap:Client"
        assert detail(fault, "p:ValidationFault/p:Field") == f"{operation}/ShipmentRef"
        assert detail(fault, "p:ValidationFault/p:Reason") == f"unknown shipment '{SHIPMENT}'"
    raw = post_raw(
        partner_bridge,
        (DATA / "update_delivery_status.xml").read_bytes(),
        "UpdateDeliveryStatus",
        partner_name="other",
    )
    for secret in (b"ORD-2025-1001", TRACKING.encode(), "Weiß".encode(), b"D\xc3\xbcsseldorf"):
        assert secret not in raw.content
    assert history_rows(partner_bridge) == 0
    assert partner_bridge.bridge.shipping.get(SHIPMENT).status is None


# -- what the gateway refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["external_entity.xml", "billion_laughs.xml", "undeclared_entity.xml"]
)
def test_hostile_xml_is_refused_with_a_client_fault_and_nothing_applied(
    partner_bridge: LiveBridge, name: str
) -> None:
    response = post_raw(
        partner_bridge, (DATA / "hostile" / name).read_bytes(), "UpdateDeliveryStatus"
    )

    assert response.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in response.content
    assert b"root:" not in response.content  # no /etc/passwd
    assert no_stack_trace(response.content)
    assert history_rows(partner_bridge) == 0


def test_a_soap_action_naming_the_other_operation_is_refused(partner_bridge: LiveBridge) -> None:
    body = (DATA / "update_delivery_status.xml").read_bytes()

    response = post_raw(partner_bridge, body, "GetShippingDetails")

    assert response.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in response.content
    assert b"does not name the operation of the body" in response.content
    assert history_rows(partner_bridge) == 0
    assert post_raw(partner_bridge, body, "UpdateDeliveryStatus").status_code == 200


def test_an_event_the_schema_refuses_is_a_client_fault_naming_the_field(
    partner_bridge: LiveBridge,
) -> None:
    body = (DATA / "update_delivery_status.xml").read_bytes().replace(b"IN_TRANSIT", b"LOST")

    response = post_raw(partner_bridge, body, "UpdateDeliveryStatus")

    assert response.status_code == 500
    assert b"<Field>UpdateDeliveryStatus/StatusCode</Field>" in response.content
    assert f'xmlns="{PARTNER}"'.encode() in response.content  # the partner's ValidationFault
    assert history_rows(partner_bridge) == 0


def test_an_event_under_another_tracking_number_is_a_client_fault_naming_it(
    partner_bridge: LiveBridge,
) -> None:
    body = (DATA / "update_delivery_status.xml").read_bytes().replace(TRACKING.encode(), b"1Z999")

    response = post_raw(partner_bridge, body, "UpdateDeliveryStatus")

    assert response.status_code == 500
    assert b"<Field>UpdateDeliveryStatus/TrackingNo</Field>" in response.content
    assert history_rows(partner_bridge) == 0
