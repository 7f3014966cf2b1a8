"""The logistics booking mappings (wsdl/upstream/logistics.wsdl): CreateShipment wraps its one
argument in <ShippingDetails>, parcels are 1..n and keep their order, errors name the parcel by
its position, names and addresses keep every script, and facets are the schema's job."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from bridge.domain import (
    Address,
    Consignee,
    Parcel,
    ServiceLevel,
    ShipmentBooking,
    ShipmentOrder,
)
from bridge.domain.errors import MappingError
from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples" / "logistics"
CONTRACTS = DATA / "contracts"
NS = "urn:logistics:booking:v1"
ORDER = "logistics/shipment_order"
BOOKING = "logistics/shipment_booking"


def _q(local: str) -> str:
    return f"{{{NS}}}{local}"


def _sample(name: str) -> etree._Element:
    return xml.parse((SAMPLES / name).read_bytes())


def _child(parent: etree._Element, path: str) -> etree._Element:
    """`path` such as "ShippingDetails/Parcel[2]/HeightCm" (XPath positions, from 1)."""
    found = parent.find("/".join(f"l:{step}" for step in path.split("/")), {"l": NS})
    assert found is not None, path
    return found


def _schema_error(document: etree._Element) -> str:
    schema = contract_schema("logistics")
    assert not schema.validate(document)
    return str(schema.error_log.last_error.message)


def _parcel(weight: int = 500, description: str | None = None) -> Parcel:
    return Parcel(
        weight_grams=weight, length_cm=30, width_cm=20, height_cm=10, description=description
    )


def _order(**changes: object) -> ShipmentOrder:
    order = ShipmentOrder(
        order_ref="ORD-2025-000900",
        shipment_ref="SHP-000900",
        service_level=ServiceLevel.STANDARD,
        consignee=Consignee(name="Jürgen Weiß", phone="+4915112345678"),
        address=Address(
            street="Königsallee 1", post_code="40212", city="Düsseldorf", country_code="DE"
        ),
        parcels=[_parcel(500), _parcel(750, "Geschenk")],
    )
    return dataclasses.replace(order, **changes)


# -- CreateShipment: the wrapped ShippingDetails ---------------------------------------------------


def test_create_shipment_fields_are_read_from_inside_shipping_details(
    mappings: Mappings,
) -> None:
    order = mappings[ORDER].read(_sample("shipment_order__germany_two_parcels.xml"))

    assert order == ShipmentOrder(
        order_ref="ORD-2025-000123",
        shipment_ref="SHP-000123",
        service_level=ServiceLevel.EXPRESS,
        consignee=Consignee(
            name="Jürgen Großmann",
            phone="+493012345678",
            email="jürgen.großmann@bäckerei-weiß.de",
        ),
        address=Address(
            street="Straße des 17. Juni 135, Hinterhaus, 3. OG",
            post_code="10623",
            city="Berlin",
            country_code="DE",
        ),
        parcels=[
            Parcel(
                weight_grams=1250,
                length_cm=40,
                width_cm=30,
                height_cm=20,
                description="Bücher & Zeitschriften (Größe „M“)",
            ),
            Parcel(weight_grams=1, length_cm=1, width_cm=1, height_cm=1),
        ],
    )


def test_written_order_puts_every_field_inside_one_shipping_details(mappings: Mappings) -> None:
    document = xml.parse(mappings[ORDER].write(_order()))

    contract_schema("logistics").assertValid(document)
    assert [child.tag for child in document] == [_q("ShippingDetails")]
    assert [etree.QName(child).localname for child in document[0]] == [
        "OrderRef",
        "ShipmentRef",
        "ServiceLevel",
        "Consignee",
        "Address",
        "Parcel",
        "Parcel",
    ]


def test_parcels_keep_their_order_both_ways(mappings: Mappings) -> None:
    mapping = mappings[ORDER]
    order = mapping.read(_sample("shipment_order__vietnam_overnight.xml"))

    assert [p.weight_grams for p in order.parcels] == [800, 2300, 150]
    again = mapping.read(xml.parse(mapping.write(order)))
    assert [p.weight_grams for p in again.parcels] == [800, 2300, 150]


# -- errors name the parcel by its position --------------------------------------------------------


def test_missing_field_of_the_second_parcel_names_parcel_2(mappings: Mappings) -> None:
    document = _sample("shipment_order__germany_two_parcels.xml")
    parcel = _child(document, "ShippingDetails/Parcel[2]")
    parcel.remove(_child(parcel, "HeightCm"))

    with pytest.raises(MappingError) as caught:
        mappings[ORDER].read(document)

    assert caught.value.path == "CreateShipment/ShippingDetails/Parcel[2]/HeightCm"
    assert str(caught.value) == (
        "CreateShipment/ShippingDetails/Parcel[2]/HeightCm: "
        "expected a required element, got 'nothing'"
    )


def test_bad_value_in_the_third_parcel_names_parcel_3(mappings: Mappings) -> None:
    document = _sample("shipment_order__vietnam_overnight.xml")
    _child(document, "ShippingDetails/Parcel[3]/WeightGrams").text = "1.5 kg"

    with pytest.raises(MappingError) as caught:
        mappings[ORDER].read(document)

    assert str(caught.value) == (
        "CreateShipment/ShippingDetails/Parcel[3]/WeightGrams: expected an integer, got '1.5 kg'"
    )


def test_order_without_parcels_is_refused_when_read(mappings: Mappings) -> None:
    document = xml.parse(
        (CONTRACTS / "logistics_invalid_create_shipment_no_parcel.xml").read_bytes()
    )

    with pytest.raises(MappingError) as caught:
        mappings[ORDER].read(document)

    assert str(caught.value) == (
        "CreateShipment/ShippingDetails/Parcel: expected a required element, got 'nothing'"
    )


def test_order_without_parcels_is_written_and_only_the_schema_refuses_it(
    mappings: Mappings,
) -> None:
    """The writer does not know minOccurs: an empty list writes no <Parcel> at all."""
    document = xml.parse(mappings[ORDER].write(_order(parcels=[])))

    assert "Missing child element(s). Expected is ( {urn:logistics:booking:v1}Parcel )" in (
        _schema_error(document)
    )


def test_writer_error_in_the_second_parcel_names_its_position(mappings: Mappings) -> None:
    """Canonical positions count from 0 (parcels[1]); XML positions from 1 (Parcel[2])."""
    order = _order(parcels=[_parcel(), dataclasses.replace(_parcel(), height_cm=None)])

    with pytest.raises(MappingError) as caught:
        mappings[ORDER].write(order)

    assert str(caught.value) == "parcels[1].height_cm: expected a value, got 'nothing'"


# -- service level ---------------------------------------------------------------------------------


def test_unknown_service_level_is_refused_naming_the_levels(mappings: Mappings) -> None:
    document = _sample("shipment_order__germany_two_parcels.xml")
    _child(document, "ShippingDetails/ServiceLevel").text = "SAME_DAY"

    with pytest.raises(MappingError) as caught:
        mappings[ORDER].read(document)

    assert str(caught.value) == (
        "CreateShipment/ShippingDetails/ServiceLevel: "
        "expected one of STANDARD, EXPRESS, OVERNIGHT, got 'SAME_DAY'"
    )


def test_service_level_given_as_plain_text_is_refused_when_written(mappings: Mappings) -> None:
    """Canonical objects carry the enum; a caller must convert "EXPRESS" to ServiceLevel first."""
    with pytest.raises(MappingError) as caught:
        mappings[ORDER].write(_order(service_level="EXPRESS"))

    assert str(caught.value) == (
        "service_level: expected a ServiceLevel: one of STANDARD, EXPRESS, OVERNIGHT, "
        "got \"str 'EXPRESS'\""
    )


# -- Unicode and namespaces ------------------------------------------------------------------------


def test_japanese_and_vietnamese_names_and_addresses_are_kept_exactly(mappings: Mappings) -> None:
    mapping = mappings[ORDER]
    japan = mapping.read(_sample("shipment_order__japan_prefixed.xml"))
    vietnam = mapping.read(_sample("shipment_order__vietnam_overnight.xml"))

    assert japan.order_ref == "注文-2025-000124"
    assert japan.consignee == Consignee(name="山田 太郎（株式会社ヤマダ商事）")  # noqa: RUF001
    assert japan.address.street == "千代田1-1 皇居外苑ビル 5階"
    assert vietnam.consignee.name == "Trần Thị Bích Ngọc"
    assert vietnam.address.city == "Thành phố Hồ Chí Minh"
    written = mapping.write(japan)
    name = "<Name>山田 太郎（株式会社ヤマダ商事）</Name>"  # noqa: RUF001 - Japanese parentheses
    assert name.encode() in written  # UTF-8, not character references
    assert mapping.read(xml.parse(written)) == japan


def test_prefixed_and_default_namespace_documents_map_the_same(mappings: Mappings) -> None:
    prefixed = (SAMPLES / "shipment_order__japan_prefixed.xml").read_bytes()
    default = prefixed.replace(b"xmlns:lx=", b"xmlns=").replace(b"lx:", b"")
    other_prefix = prefixed.replace(b"lx", b"ns0")
    assert b"<CreateShipment xmlns=" in default

    read = [mappings.read_bytes(ORDER, data) for data in (prefixed, default, other_prefix)]

    assert read[0] == read[1] == read[2]
    assert read[0].parcels[0].weight_grams == 1_000_000


def test_unqualified_children_are_refused_naming_the_expected_namespace(mappings: Mappings) -> None:
    data = (SAMPLES / "shipment_order__japan_prefixed.xml").read_bytes().replace(b"lx:", b"")
    data = data.replace(b"<CreateShipment", b"<lx:CreateShipment").replace(
        b"</CreateShipment", b"</lx:CreateShipment"
    )

    with pytest.raises(MappingError) as caught:
        mappings.read_bytes(ORDER, data)

    assert str(caught.value) == (
        "CreateShipment/ShippingDetails: expected ShippingDetails in namespace "
        "urn:logistics:booking:v1, got 'ShippingDetails in namespace (none)'"
    )


def test_document_in_another_namespace_is_refused(mappings: Mappings) -> None:
    data = (SAMPLES / "shipment_order__germany_two_parcels.xml").read_bytes()
    data = data.replace(b"urn:logistics:booking:v1", b"urn:bridge:partner:v1")

    with pytest.raises(MappingError) as caught:
        mappings.read_bytes(ORDER, data)

    assert str(caught.value) == (
        "CreateShipment: expected the element CreateShipment in namespace "
        "urn:logistics:booking:v1, got '{urn:bridge:partner:v1}CreateShipment'"
    )


# -- CreateShipmentResponse ----------------------------------------------------------------------


def test_booking_reads_tracking_number_date_and_label_url(mappings: Mappings) -> None:
    booking = mappings[BOOKING].read(_sample("shipment_booking__with_label.xml"))

    assert booking == ShipmentBooking(
        order_ref="ORD-2025-000123",
        tracking_no="LX00012345678DE",
        estimated_delivery=date(2025, 6, 4),
        label_url="https://labels.example.com/v1/labels/LX00012345678DE.pdf?format=A6&lang=de",
    )
    assert b"?format=A6&amp;lang=de</LabelUrl>" in mappings[BOOKING].write(booking)


def test_booking_without_a_label_has_no_label_url(mappings: Mappings) -> None:
    booking = mappings[BOOKING].read(_sample("shipment_booking__no_label_japan.xml"))

    assert booking.label_url is None
    assert b"LabelUrl" not in mappings[BOOKING].write(booking)


def test_estimated_delivery_in_another_date_format_is_a_mapping_error(mappings: Mappings) -> None:
    document = _sample("shipment_booking__with_label.xml")
    _child(document, "EstimatedDelivery").text = "04.06.2025"

    with pytest.raises(MappingError) as caught:
        mappings[BOOKING].read(document)

    assert str(caught.value) == (
        "CreateShipmentResponse/EstimatedDelivery: expected a date YYYY-MM-DD, got '04.06.2025'"
    )


# -- which layer catches what: the mapping checks structure and types, the schema every facet -----

# contract sample -> what the mapping says (None: it maps; only the schema refuses it)
INVALID_SAMPLES: dict[str, tuple[str, str | None]] = {
    "logistics_invalid_create_shipment_service_level.xml": (
        ORDER,
        "CreateShipment/ShippingDetails/ServiceLevel: "
        "expected one of STANDARD, EXPRESS, OVERNIGHT, got 'SAME_DAY'",
    ),
    "logistics_invalid_create_shipment_weight_decimal.xml": (
        ORDER,
        "CreateShipment/ShippingDetails/Parcel[1]/WeightGrams: expected an integer, got '1250.5'",
    ),
    "logistics_invalid_create_shipment_consignee_without_name.xml": (
        ORDER,
        "CreateShipment/ShippingDetails/Consignee/Name: expected a required element, got 'nothing'",
    ),
    "logistics_invalid_create_shipment_unknown_element.xml": (
        ORDER,
        "CreateShipment/ShippingDetails/Insurance: expected one of the elements OrderRef, "
        "ShipmentRef, ServiceLevel, Consignee, Address, Parcel, got 'an unexpected element'",
    ),
    "logistics_invalid_create_shipment_response_estimated_delivery.xml": (
        BOOKING,
        "CreateShipmentResponse/EstimatedDelivery: expected a date YYYY-MM-DD, got '04.06.2025'",
    ),
    "logistics_invalid_create_shipment_phone_spaces.xml": (ORDER, None),  # E.164 pattern
    "logistics_invalid_create_shipment_email.xml": (ORDER, None),  # e-mail pattern
    "logistics_invalid_create_shipment_country_alpha3.xml": (ORDER, None),  # [A-Z]{2}
    "logistics_invalid_create_shipment_country_lowercase.xml": (ORDER, None),
    "logistics_invalid_create_shipment_weight_zero.xml": (ORDER, None),  # minInclusive 1
    "logistics_invalid_create_shipment_height_negative.xml": (ORDER, None),
    "logistics_invalid_create_shipment_order_ref_too_long.xml": (ORDER, None),  # maxLength 35
    "logistics_invalid_create_shipment_response_tracking_no.xml": (BOOKING, None),  # pattern
}


@pytest.mark.parametrize("sample", sorted(INVALID_SAMPLES))
def test_invalid_contract_sample_is_refused_by_the_schema_and_maybe_first_by_the_mapping(
    mappings: Mappings, sample: str
) -> None:
    name, mapping_error = INVALID_SAMPLES[sample]
    document = xml.parse((CONTRACTS / sample).read_bytes())

    _schema_error(document)
    if mapping_error is None:
        mappings[name].read(document)
    else:
        with pytest.raises(MappingError) as caught:
            mappings[name].read(document)
        assert str(caught.value) == mapping_error


def test_every_invalid_logistics_contract_sample_is_in_the_table() -> None:
    samples = {p.name for p in CONTRACTS.glob("logistics_invalid_*.xml")}
    assert samples - {"logistics_invalid_create_shipment_no_parcel.xml"} == set(INVALID_SAMPLES)
