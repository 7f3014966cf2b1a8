"""The logistics booking simulator: tracking numbers, delivery estimates, once per OrderRef."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import requests
import zeep
from zeep.helpers import serialize_object

from bridge.sims import SimControl
from tests.common.sims import SimServer
from tests.sims.messages import shipment

TRACKING_NO = re.compile(r"[A-Z0-9]{8,35}")
VIETNAM = {
    "Street": "12 Đường Nguyễn Huệ",
    "PostCode": "700000",
    "City": "Hồ Chí Minh",
    "CountryCode": "VN",
}


def test_a_booking_gets_a_tracking_number_an_estimate_and_a_label(
    logistics: Any, sim_server: SimServer
) -> None:
    result = logistics.CreateShipment(ShippingDetails=shipment("ORD-2025-000123"))

    assert result.OrderRef == "ORD-2025-000123"
    assert TRACKING_NO.fullmatch(result.TrackingNo)
    assert result.TrackingNo.startswith("CP")
    assert result.TrackingNo.endswith("DE")
    assert result.LabelUrl == f"{sim_server.url('logistics')}/labels/{result.TrackingNo}"
    label = requests.get(result.LabelUrl, timeout=5)
    assert label.status_code == 200
    assert "Trần Thị Bích Ngọc" in label.text
    assert "ORD-2025-000123" in label.text


@pytest.mark.parametrize(
    ("level", "address", "expected"),
    [
        # Booked Monday 2 June 2025; business days skip the weekend.
        ("STANDARD", None, date(2025, 6, 5)),
        ("EXPRESS", None, date(2025, 6, 4)),
        ("OVERNIGHT", None, date(2025, 6, 3)),
        ("STANDARD", VIETNAM, date(2025, 6, 11)),
        ("EXPRESS", VIETNAM, date(2025, 6, 6)),
        ("OVERNIGHT", VIETNAM, date(2025, 6, 4)),
    ],
)
def test_estimated_delivery_follows_the_service_level(
    logistics: Any, level: str, address: dict[str, str] | None, expected: date
) -> None:
    fields: dict[str, Any] = {"ServiceLevel": level}
    if address:
        fields["Address"] = address

    result = logistics.CreateShipment(ShippingDetails=shipment(f"ORD-{level}", **fields))

    assert result.EstimatedDelivery == expected


def test_a_friday_booking_is_delivered_after_the_weekend(
    logistics: Any, sim_server: SimServer
) -> None:
    sim_server.clock.now = sim_server.clock.now.replace(day=6)  # Friday 6 June 2025

    result = logistics.CreateShipment(
        ShippingDetails=shipment("ORD-FRIDAY", ServiceLevel="OVERNIGHT")
    )

    assert result.EstimatedDelivery == date(2025, 6, 9)


def test_the_same_order_ref_books_once_and_answers_the_first_booking(
    logistics: Any, sim_server: SimServer, control: Callable[[str], SimControl]
) -> None:
    first = logistics.CreateShipment(ShippingDetails=shipment("ORD-TWICE"))
    sim_server.clock.now = sim_server.clock.now.replace(day=3)
    second = logistics.CreateShipment(ShippingDetails=shipment("ORD-TWICE", ServiceLevel="EXPRESS"))

    assert serialize_object(second) == serialize_object(first)
    assert len(control("logistics").effects(key="ORD-TWICE")) == 1
    calls = control("logistics").calls("CreateShipment", key="ORD-TWICE")
    assert [(c["duplicate"], c["summary"].get("conflicts")) for c in calls] == [
        (False, None),
        (True, ["ORD-TWICE"]),
    ]


def test_tracking_numbers_are_deterministic_per_order_ref(
    logistics: Any, control: Callable[[str], SimControl]
) -> None:
    first = logistics.CreateShipment(ShippingDetails=shipment("ORD-DET-1")).TrackingNo
    other = logistics.CreateShipment(ShippingDetails=shipment("ORD-DET-2")).TrackingNo
    control("logistics").reset()
    again = logistics.CreateShipment(ShippingDetails=shipment("ORD-DET-1")).TrackingNo

    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"Address": {**VIETNAM, "CountryCode": "AQ"}}, "Client.CountryNotServed"),
        (
            {
                "ServiceLevel": "OVERNIGHT",
                "Parcel": [{"WeightGrams": 20_001, "LengthCm": 50, "WidthCm": 50, "HeightCm": 50}],
            },
            "Client.ParcelTooHeavy",
        ),
    ],
)
def test_an_unbookable_shipment_is_a_client_fault_and_books_nothing(
    logistics: Any, control: Callable[[str], SimControl], fields: dict[str, Any], code: str
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        logistics.CreateShipment(ShippingDetails=shipment("ORD-REFUSED", **fields))

    assert fault.value.code.endswith(code)
    assert control("logistics").effects() == []
    (call,) = control("logistics").calls()
    assert (call["idempotency_key"], call["summary"]["outcome"]) == ("ORD-REFUSED", "fault")
    # Corrected, the same OrderRef books.
    assert logistics.CreateShipment(ShippingDetails=shipment("ORD-REFUSED")).TrackingNo


def test_an_unknown_label_is_not_found(sim_server: SimServer) -> None:
    response = requests.get(f"{sim_server.url('logistics')}/labels/CPNOTHINGDE", timeout=5)

    assert response.status_code == 404
