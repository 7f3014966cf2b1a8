"""The generic JSON <-> XML codec (bridge.mapping.generic): the JSON form of each construct,
spec renames, specs that do not fit the contract, replies that do not fit it."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from bridge.domain.errors import ConfigurationError, MappingError
from bridge.mapping.generic import MessageCodec, compile_codec, default_spec
from bridge.mapping.registry import Mappings
from bridge.mapping.spec import json_message_spec, load_message_spec
from bridge.mapping.xml import parse
from tests.common.xsd import XSD_DIR, fixture_schema

C = "{urn:test:constructs}"
U = "{urn:test:unqualified}"


def _codec(
    clark: str, spec: dict[str, Any] | None = None, schema: str = "constructs"
) -> MessageCodec:
    schemas = fixture_schema(schema)
    root = schemas.element(clark)
    parsed = None
    if spec is not None:
        parsed = json_message_spec(spec, name="test/spec", contract="test", where="test/spec.yaml")
    return compile_codec(root, parsed, wrapped=False, validator=schemas.validator)


def _order() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((XSD_DIR / "order.json").read_text(encoding="utf-8"))
    return data


def test_an_order_round_trips_and_its_xml_is_valid() -> None:
    codec = _codec(f"{C}Order")
    element = codec.write(_order())
    assert fixture_schema("constructs").validator.violation(element) is None
    assert codec.read(element) == _order()


def test_the_xml_carries_each_construct_as_the_contract_declares_it() -> None:
    element = _codec(f"{C}Order").write(_order())
    ns = {"t": "urn:test:constructs"}
    assert element.get("createdAt") == "2026-01-02T10:00:00+01:00"
    assert element.xpath("t:buyer/t:company/@listed", namespaces=ns) == ["true"]
    assert element.xpath("t:line[2]/t:price/@currency", namespaces=ns) == ["JPY"]
    assert element.xpath("t:line[1]/t:price/text()", namespaces=ns) == ["12.50"]
    nil = element.find("t:discount", ns)
    assert nil.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    assert element.findtext("t:tags", namespaces=ns) == "gift express"
    # a repeated group's arrays are written round by round: step, month, step
    tail = [
        etree.QName(e).localname for e in element if etree.QName(e).localname in ("step", "month")
    ]
    assert tail == ["step", "month", "step"]


def test_decimals_read_back_as_written_and_a_json_number_is_refused() -> None:
    codec = _codec(f"{C}Order")
    data = _order()
    data["discount"] = "0.10"
    assert codec.read(codec.write(data))["discount"] == "0.10"
    for number in (Decimal("0.10"), 1):
        with pytest.raises(MappingError, match=r"discount: .*not a JSON number"):
            codec.write({**data, "discount": number})


def test_unqualified_children_repeated_choice_and_nested_choice() -> None:
    codec = _codec(f"{U}Lookup", schema="unqualified")
    data = {
        "code": [1, 9999],
        "include": ["a", "b"],
        "exclude": ["c"],
        "entry": [
            {"key": "k", "number": -5, "unit": "kg", "@lang": "de"},
            {"key": "t", "text": ""},
        ],
        "comment": None,
    }
    element = codec.write(data)
    assert element[0].tag == "code"  # no namespace: elementFormDefault unqualified
    assert element[2].get("{urn:test:unqualified}lang") is None
    assert codec.read(element) == data


def test_a_simple_root_and_an_empty_message() -> None:
    echo = _codec(f"{C}Echo")
    assert echo.read(echo.write({"#text": "hello"})) == {"#text": "hello"}
    ping = _codec(f"{C}Ping")
    assert ping.read(ping.write({})) == {}


def test_a_spec_renames_fields_at_every_level() -> None:
    spec = default_spec(
        fixture_schema("constructs").element(f"{C}Settings"), wrapped=True, description=""
    )
    spec["fields"] = {"look": "theme", "rows": "pageSize"}
    codec = _codec(f"{C}Settings", spec)
    element = codec.write({"look": "dark", "rows": 20})
    assert element.findtext("{urn:test:constructs}theme") == "dark"
    assert codec.read(element) == {"look": "dark", "rows": 20}
    nested = default_spec(
        fixture_schema("constructs").element(f"{C}Order"), wrapped=False, description=""
    )
    nested["fields"]["lines"] = nested["fields"].pop("line")
    nested["fields"]["lines"]["fields"]["amount"] = nested["fields"]["lines"]["fields"].pop("price")
    data = _order()
    data["lines"] = data.pop("line")
    for line in data["lines"]:
        line["amount"] = line.pop("price")
    order = _codec(f"{C}Order", nested)
    assert order.read(order.write(data)) == data
    data["lines"][1]["amount"]["#text"] = "1.234"
    with pytest.raises(MappingError) as refused:
        order.write(data)
    assert refused.value.path == "lines[1].amount.#text"


def test_default_spec_written_as_yaml_loads_and_compiles_to_the_same_codec(tmp_path: Path) -> None:
    root = fixture_schema("constructs").element(f"{C}Order")
    path = tmp_path / "services" / "shop" / "Order.input.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(
        yaml.safe_dump(default_spec(root, wrapped=False, description="an order"), sort_keys=False)
    )
    spec = load_message_spec(path, tmp_path)
    assert (spec.name, spec.model, spec.description) == ("shop/Order.input", "json", "an order")
    codec = compile_codec(
        root, spec, wrapped=False, validator=fixture_schema("constructs").validator
    )
    assert codec.read(codec.write(_order())) == _order()


def test_a_recursive_type_is_named_without_fields_in_the_default_spec() -> None:
    spec = default_spec(
        fixture_schema("constructs").element(f"{C}Order"), wrapped=False, description=""
    )
    assert spec["fields"]["category"] == {
        "path": "category",
        "fields": {"title": "title", "sub": "sub"},
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"look": "colour", "pageSize": "pageSize"},
            r"field look: 'colour' is not in the contract",
        ),
        ({"pageSize": "pageSize"}, r"field theme: required by the contract but not in the spec"),
        ({"theme": "theme/x"}, r"field theme: 'theme/x': one XSD name per level"),
        (
            {"theme": {"path": "theme", "fields": {"a": "b"}}},
            r"field theme: a simple element has no fields",
        ),
        ({"theme": "theme", "again": "theme"}, r"field again: 'theme' is mapped twice"),
    ],
)
def test_a_spec_that_does_not_fit_the_contract_is_refused_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    spec = {
        "element": "Settings",
        "namespace": "urn:test:constructs",
        "model": "json",
        "fields": fields,
    }
    with pytest.raises(ConfigurationError, match=f"mapping spec test/spec: {message}"):
        _codec(f"{C}Settings", spec)


def test_a_nested_field_that_leaves_out_a_required_element_is_refused_with_its_path() -> None:
    spec = default_spec(
        fixture_schema("constructs").element(f"{C}Order"), wrapped=False, description=""
    )
    del spec["fields"]["line"]["fields"]["price"]
    with pytest.raises(ConfigurationError, match=r"field line\.price: required by the contract"):
        _codec(f"{C}Order", spec)


def test_a_spec_for_another_element_is_refused() -> None:
    spec = {"element": "Order", "namespace": "urn:test:constructs", "model": "json", "fields": {}}
    with pytest.raises(ConfigurationError, match=re.escape("it maps {urn:test:constructs}Order")):
        _codec(f"{C}Settings", spec)


def test_a_spec_may_leave_out_optional_fields_which_reading_then_drops() -> None:
    spec = {
        "element": "Settings",
        "namespace": "urn:test:constructs",
        "model": "json",
        "fields": {"theme": "theme"},
    }
    codec = _codec(f"{C}Settings", spec)
    full = _codec(f"{C}Settings").write({"theme": "dark", "pageSize": 3})
    assert codec.read(full) == {"theme": "dark"}


def _reply(text: str) -> Any:
    return parse(text.encode())


def test_reading_an_element_the_contract_does_not_declare_is_a_mapping_error() -> None:
    codec = _codec(f"{C}Settings")
    with pytest.raises(MappingError) as refused:
        codec.read(
            _reply(
                '<Settings xmlns="urn:test:constructs">'
                "<theme>a</theme><colour>b</colour></Settings>"
            )
        )
    assert refused.value.path == "colour"
    with pytest.raises(MappingError, match="no such attribute"):
        codec.read(
            _reply('<Settings xmlns="urn:test:constructs" mode="x"><theme>a</theme></Settings>')
        )
    with pytest.raises(MappingError, match=re.escape("the element {urn:test:constructs}Settings")):
        codec.read(_reply('<Other xmlns="urn:test:constructs"/>'))


def test_reading_a_value_of_the_wrong_type_names_the_json_field() -> None:
    codec = _codec(f"{C}Order")
    element = codec.write(_order())
    element.find(
        "{urn:test:constructs}line[2]/{urn:test:constructs}quantity"
    ).text = "\u0663"  # an Arabic-Indic three
    with pytest.raises(MappingError) as refused:
        codec.read(element)
    assert refused.value.path == "line[1].quantity"


def test_an_xml_nil_where_the_contract_has_no_nillable_is_refused_on_reading() -> None:
    codec = _codec(f"{C}Settings")
    reply = _reply(
        '<Settings xmlns="urn:test:constructs" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<theme xsi:nil="true"/></Settings>'
    )
    with pytest.raises(MappingError, match="theme: expected a value"):
        codec.read(reply)


def test_the_registry_leaves_imported_services_to_the_catalog(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "mappings"
    root = tmp_path / "mappings"
    for path in source.rglob("*.yaml"):
        target = root / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    services = root / "services"
    (services / "vat").mkdir(parents=True)
    (services / "broken.yaml").write_text("element: [not a spec")
    (services / "vat" / "checkVat.input.yaml").write_text("model: json\n")
    assert Mappings.load(root).names() == Mappings.load(source).names()


def test_mixed_text_is_one_optional_text_field() -> None:
    memo = _codec(f"{C}Memo")
    reply = _reply('<Memo xmlns="urn:test:constructs">Call <em>now</em>, please</Memo>')
    assert memo.read(reply) == {"#text": "Call , please", "em": ["now"]}
    assert memo.read(memo.write({"em": ["now"]})) == {"em": ["now"]}


def test_an_element_of_any_type_carries_its_text_and_any_elements() -> None:
    blob = _codec(f"{C}Blob")
    reply = _reply('<Blob xmlns="urn:test:constructs">raw <x:y xmlns:x="urn:x">1</x:y></Blob>')
    data = blob.read(reply)
    assert data == {"#text": "raw ", "##any": ['<x:y xmlns:x="urn:x">1</x:y>']}
    assert blob.read(blob.write(data)) == data
