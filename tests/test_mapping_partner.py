"""The partner mappings as a logistics partner sees them: what a refused field's error says, and
what a delivery event, an acknowledgement and a shipment carry. Documents are the samples under
tests/data/samples/partner/, changed in one place per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from bridge.domain import ShipmentStatus
from bridge.domain.errors import MappingError
from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples" / "partner"
VARIANTS = DATA / "mapping" / "partner"
NS = {"p": "urn:bridge:partner:v1"}
ALL = Mappings.load()
SCHEMA = contract_schema("partner")


def sample(name: str) -> Any:
    return xml.parse((SAMPLES / f"{name}.xml").read_bytes())


def node(document: Any, path: str) -> Any:
    found = document.find(path, NS)
    assert found is not None, path
    return found


def refusal(spec: str, document: Any) -> MappingError:
    with pytest.raises(MappingError) as caught:
        ALL[f"partner/{spec}"].read(document)
    return caught.value


# -- event times ----------------------------------------------------------------------------------


def test_event_time_without_a_time_zone_is_refused_though_the_schema_allows_it() -> None:
    document = sample("delivery_status_update__minimal")
    node(document, "p:EventTime").text = "2025-03-02T14:05:00"

    assert SCHEMA.validate(document)
    error = refusal("delivery_status_update", document)
    assert str(error) == (
        "UpdateDeliveryStatus/EventTime: expected a date-time with a time zone, "
        "such as 2026-11-25T10:00:00Z, got '2025-03-02T14:05:00'"
    )


def test_event_time_keeps_the_partners_utc_offset() -> None:
    mapping = ALL["partner/delivery_status_update"]

    event = mapping.read(sample("delivery_status_update__delivered_japan"))

    assert event.event_time.utcoffset() == timedelta(hours=9)
    assert event.event_time == datetime(2025, 3, 4, 2, 42, 17, tzinfo=UTC)
    written = node(xml.parse(mapping.write(event)), "p:EventTime").text
    assert written == "2025-03-04T11:42:17+09:00"


def test_writer_refuses_an_event_time_without_a_time_zone_naming_the_canonical_field() -> None:
    mapping = ALL["partner/delivery_status_update"]
    event = mapping.read(sample("delivery_status_update__minimal"))
    event.event_time = datetime(2025, 3, 2, 14, 5)  # naive on purpose

    with pytest.raises(MappingError) as caught:
        mapping.write(event)

    assert (caught.value.path, caught.value.expected) == (
        "event_time",
        "a date-time with a time zone",
    )


@pytest.mark.parametrize("text", ["morgen", "05.03.2025", "2025-03-05T18:00:00+01:00"])
def test_non_date_estimated_delivery_is_refused_with_its_path(text: str) -> None:
    document = sample("delivery_status_update__full")
    node(document, "p:EstimatedDelivery").text = text

    error = refusal("delivery_status_update", document)

    assert (error.path, error.expected, error.got) == (
        "UpdateDeliveryStatus/EstimatedDelivery",
        "a date YYYY-MM-DD",
        text,
    )


# -- codes and structure --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["LOST", "delivered", "IN TRANSIT"])
def test_unknown_status_code_is_refused_with_the_codes_allowed(code: str) -> None:
    document = sample("delivery_status_update__minimal")
    node(document, "p:StatusCode").text = code

    error = refusal("delivery_status_update", document)

    assert error.path == "UpdateDeliveryStatus/StatusCode"
    assert error.expected == (
        "one of PICKED_UP, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, RETURNED"
    )
    assert error.got == code


def test_event_without_a_location_is_refused_as_missing_a_required_element() -> None:
    document = sample("delivery_status_update__minimal")
    document.remove(node(document, "p:Location"))

    error = refusal("delivery_status_update", document)

    assert str(error) == "UpdateDeliveryStatus/Location: expected a required element, got 'nothing'"


def test_consignee_without_an_address_is_refused_with_the_nested_path() -> None:
    document = sample("shipping_details__minimal")
    consignee = node(document, "p:Consignee")
    consignee.remove(node(consignee, "p:Address"))

    error = refusal("shipping_details", document)

    assert (error.path, error.expected) == (
        "GetShippingDetailsResponse/Consignee/Address",
        "a required element",
    )


def test_unexpected_element_in_a_location_is_refused_with_the_elements_allowed_there() -> None:
    document = sample("delivery_status_update__full")
    etree.SubElement(node(document, "p:Location"), f"{{{NS['p']}}}Alt").text = "12"

    error = refusal("delivery_status_update", document)

    assert str(error) == (
        "UpdateDeliveryStatus/Location/Alt: expected one of the elements City, CountryCode, "
        "Lat, Lon, got 'an unexpected element'"
    )


def test_latitude_with_a_decimal_comma_is_refused() -> None:
    document = sample("delivery_status_update__full")
    node(document, "p:Location/p:Lat").text = "10,7769"

    error = refusal("delivery_status_update", document)

    assert (error.path, error.expected) == (
        "UpdateDeliveryStatus/Location/Lat",
        "a decimal number such as 12.50 (ASCII digits, no exponent)",
    )


@pytest.mark.parametrize(
    ("event", "element", "text", "path", "expected"),
    [
        (
            2,
            "p:EventTime",
            "2025-03-04T11:42:00",
            "GetShippingDetailsResponse/Event[2]/EventTime",
            "a date-time with a time zone, such as 2026-11-25T10:00:00Z",
        ),
        (
            2,
            "p:Location/p:Lat",
            "51,2254",
            "GetShippingDetailsResponse/Event[2]/Location/Lat",
            "a decimal number such as 12.50 (ASCII digits, no exponent)",
        ),
        (
            1,
            "p:StatusCode",
            "ABGEHOLT",
            "GetShippingDetailsResponse/Event[1]/StatusCode",
            "one of PICKED_UP, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, RETURNED",
        ),
        (
            1,
            "p:Location/p:City",
            None,
            "GetShippingDetailsResponse/Event[1]/Location/City",
            "a required element",
        ),
    ],
)
def test_refused_event_names_its_position_in_the_shipments_history(
    event: int, element: str, text: str | None, path: str, expected: str
) -> None:
    document = sample("shipping_details__full")
    target = node(document.findall("p:Event", NS)[event - 1], element)
    if text is None:
        target.getparent().remove(target)
    else:
        target.text = text

    error = refusal("shipping_details", document)

    assert (error.path, error.expected) == (path, expected)


@pytest.mark.parametrize("text", ["yes", "TRUE", "ja"])
def test_non_boolean_acknowledgement_flag_is_refused(text: str) -> None:
    document = sample("delivery_ack__accepted")
    node(document, "p:Duplicate").text = text

    error = refusal("delivery_ack", document)

    assert (error.path, error.expected, error.got) == (
        "UpdateDeliveryStatusResponse/Duplicate",
        "true or false",
        text,
    )


# -- namespaces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "spec", "same_as"),
    [
        (
            "delivery_status_update__prefixed",
            "delivery_status_update",
            "delivery_status_update__full",
        ),
        ("shipping_details__mixed_namespaces", "shipping_details", "shipping_details__full"),
    ],
)
def test_prefixed_document_maps_like_the_default_namespace_one(
    variant: str, spec: str, same_as: str
) -> None:
    document = xml.parse((VARIANTS / f"{variant}.xml").read_bytes())

    assert SCHEMA.validate(document)
    assert ALL[f"partner/{spec}"].read(document) == ALL[f"partner/{spec}"].read(sample(same_as))


def test_element_of_the_banking_contract_is_refused() -> None:
    document = sample("shipping_details_request")
    document.tag = "{urn:bridge:banking:v1}GetShippingDetails"

    error = refusal("shipping_details_request", document)

    assert error.expected == "the element GetShippingDetails in namespace urn:bridge:partner:v1"


# -- what the messages carry ----------------------------------------------------------------------


def test_coordinates_are_exact_decimals() -> None:
    event = ALL["partner/delivery_status_update"].read(
        sample("delivery_status_update__delivered_japan")
    )

    assert type(event.location.lat) is Decimal
    assert (event.location.lat, event.location.lon) == (
        Decimal("35.6812362"),
        Decimal("139.7671248"),
    )


def test_acknowledgement_flags_accept_both_boolean_spellings() -> None:
    ack = ALL["partner/delivery_ack"].read(sample("delivery_ack__out_of_order"))

    assert (ack.accepted, ack.duplicate) == (True, False)


def test_events_keep_the_order_they_were_received_in() -> None:
    details = ALL["partner/shipping_details"].read(sample("shipping_details__vietnam_in_transit"))

    assert [e.status for e in details.events] == [
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.IN_TRANSIT,
    ]


def test_consignee_name_and_address_are_written_into_one_consignee_element() -> None:
    mapping = ALL["partner/shipping_details"]
    details = mapping.read(sample("shipping_details__minimal"))

    produced = xml.parse(mapping.write(details))

    consignees = produced.findall("p:Consignee", NS)
    assert len(consignees) == 1
    assert [etree.QName(child).localname for child in consignees[0]] == ["Nm", "Address"]
    assert details.consignee_name == "山田 太郎"
    assert details.address.city == "東京"


def test_shipment_not_yet_booked_has_no_tracking_number_status_or_events() -> None:
    details = ALL["partner/shipping_details"].read(sample("shipping_details__minimal"))

    assert (details.tracking_no, details.current_status, details.events) == (None, None, [])
