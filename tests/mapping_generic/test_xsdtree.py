"""The schema tree (bridge.mapping.xsdtree.SchemaSet): one test per XSD construct it reads."""

from __future__ import annotations

import pytest
from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.validation import ContractSchema
from bridge.mapping.xsdtree import ComplexType, Element, Group, SchemaSet, SimpleType, Wildcard
from tests.common.xsd import XSD_DIR, fixture_schema, load_schema_set

C = "{urn:test:constructs}"
U = "{urn:test:unqualified}"


def _content(schemas: SchemaSet, clark: str) -> ComplexType:
    found = schemas.element(clark).type
    assert isinstance(found, ComplexType)
    return found


def _particle(group: Group, name: str) -> Element:
    for particle in group.particles:
        if isinstance(particle, Element) and particle.name == name:
            return particle
        if isinstance(particle, Group):
            try:
                return _particle(particle, name)
            except LookupError:
                continue
    raise LookupError(name)


def _order() -> ComplexType:
    return _content(fixture_schema("constructs"), f"{C}Order")


def _child(ctype: ComplexType, name: str) -> Element:
    assert ctype.content is not None
    return _particle(ctype.content, name)


def test_global_elements_are_listed_by_clark_name() -> None:
    assert fixture_schema("constructs").elements() == [
        f"{C}Blob",
        f"{C}Echo",
        f"{C}Memo",
        f"{C}Order",
        f"{C}Ping",
        f"{C}Settings",
        f"{C}note",
    ]


def test_a_simple_type_carries_its_builtin_and_every_facet_of_its_derivation() -> None:
    name = _child(_order(), "line").type
    assert isinstance(name, ComplexType)
    label = _child(_content(fixture_schema("constructs"), f"{C}Order"), "id").type
    assert isinstance(label, SimpleType)
    assert (label.builtin, label.facets.patterns) == ("string", ("[A-Z]{3}-\\d{4}",))
    amount = _child(_order(), "discount").type
    assert isinstance(amount, SimpleType)
    assert amount.builtin == "decimal"
    assert (amount.facets.total_digits, amount.facets.fraction_digits) == (12, 2)
    assert amount.facets.min_inclusive == "0"


def test_a_restriction_of_a_restriction_keeps_the_base_facets_and_adds_its_pattern() -> None:
    label = fixture_schema("constructs").type(f"{C}Label")
    assert isinstance(label, SimpleType)
    assert (label.facets.min_length, label.facets.max_length) == (1, 35)
    assert label.facets.patterns == ("[\\p{L} ]+",)


def test_enumerations_lists_and_unions() -> None:
    schemas = fixture_schema("constructs")
    status = schemas.type(f"{C}Status")
    tags = schemas.type(f"{C}Tags")
    size = schemas.type(f"{C}Size")
    assert isinstance(status, SimpleType)
    assert status.facets.enumeration == (
        "NEW",
        "PAID",
        "SHIPPED",
    )
    assert isinstance(tags, SimpleType)
    assert tags.item is not None
    assert (tags.item.builtin, tags.item.facets.max_length, tags.facets.max_length) == (
        "NCName",
        10,
        5,
    )
    assert isinstance(size, SimpleType)
    assert [m.builtin for m in size.members] == ["int", "string"]


def test_an_extension_puts_the_base_content_and_attributes_first() -> None:
    company = fixture_schema("constructs").type(f"{C}Company")
    assert isinstance(company, ComplexType)
    assert company.content is not None
    assert company.base == f"{C}Party"
    base, own = company.content.particles
    assert isinstance(base, Group)
    assert isinstance(own, Group)
    assert [p.name for p in base.particles if isinstance(p, Element)] == ["name", "line"]
    assert [p.name for p in own.particles if isinstance(p, Element)] == ["vatId"]
    assert [a.name for a in company.attributes] == ["ref", "listed"]


def test_a_complex_restriction_restates_content_and_drops_prohibited_attributes() -> None:
    restricted = fixture_schema("constructs").type(f"{C}PartyName")
    assert isinstance(restricted, ComplexType)
    assert restricted.content is not None
    assert [p.name for p in restricted.content.particles if isinstance(p, Element)] == ["name"]
    assert restricted.attributes == []


def test_simple_content_is_the_base_type_with_the_extension_attributes() -> None:
    money = fixture_schema("constructs").type(f"{C}Money")
    assert isinstance(money, ComplexType)
    assert money.simple is not None
    assert money.simple.builtin == "decimal"
    assert money.content is None
    assert [(a.name, a.required) for a in money.attributes] == [("currency", True)]


def test_group_and_attribute_group_references_are_expanded_with_their_occurrence() -> None:
    order = _order()
    assert order.content is not None
    contact = next(
        p for p in order.content.particles if isinstance(p, Group) and p.kind == "choice"
    )
    assert contact.min_occurs == 0
    assert [p.name for p in contact.particles if isinstance(p, Element)] == ["email", "phone"]
    assert [a.name for a in order.attributes] == ["createdAt", "version", "channel"]
    assert order.attributes[0].required
    assert order.attributes[2].default == "web"


def test_an_element_reference_takes_the_global_declaration_and_its_own_occurrence() -> None:
    note = _child(_order(), "note")
    assert (note.namespace, note.min_occurs, note.max_occurs) == ("urn:test:constructs", 0, 2)


def test_a_repeated_group_keeps_its_occurrence() -> None:
    order = _order()
    assert order.content is not None
    steps = next(
        p
        for p in order.content.particles
        if isinstance(p, Group) and p.kind == "sequence" and p.max_occurs == 3
    )
    assert steps.min_occurs == 0


def test_nillable_wildcard_all_and_empty_content() -> None:
    schemas = fixture_schema("constructs")
    assert _child(_order(), "discount").nillable
    extra = _child(_order(), "extra").type
    assert isinstance(extra, ComplexType)
    assert extra.content is not None
    wildcard = extra.content.particles[0]
    assert isinstance(wildcard, Wildcard)
    assert (wildcard.namespace, wildcard.process_contents, wildcard.max_occurs) == (
        "##other",
        "lax",
        None,
    )
    settings = _content(schemas, f"{C}Settings")
    assert settings.content is not None
    assert settings.content.kind == "all"
    ping = _content(schemas, f"{C}Ping")
    assert (ping.content, ping.simple, ping.attributes) == (None, None, [])
    echo = schemas.element(f"{C}Echo")
    assert isinstance(echo.type, SimpleType)
    assert echo.type.facets.max_length == 35


def test_a_recursive_type_is_a_cycle_in_the_tree() -> None:
    category = fixture_schema("constructs").type(f"{C}Category")
    assert isinstance(category, ComplexType)
    assert _child(category, "sub").type is category
    assert repr(category) == f"ComplexType({C}Category)"


def test_named_types_are_built_once_and_shared() -> None:
    schemas = fixture_schema("constructs")
    assert schemas.type(f"{C}Party") is schemas.type(f"{C}Party")
    assert schemas.element(f"{C}Order") is schemas.element(f"{C}Order")


def test_unqualified_local_elements_have_no_namespace_and_a_global_attribute_has_one() -> None:
    lookup = _content(fixture_schema("unqualified"), f"{U}Lookup")
    code = _child(lookup, "code")
    assert (code.namespace, code.max_occurs) == (None, None)
    entry = _child(lookup, "entry").type
    assert isinstance(entry, ComplexType)
    assert [(a.name, a.namespace) for a in entry.attributes] == [("lang", "urn:test:unqualified")]


def test_builtin_types_are_named_in_the_xsd_namespace() -> None:
    schemas = fixture_schema("constructs")
    date = schemas.type("{http://www.w3.org/2001/XMLSchema}date")
    assert isinstance(date, SimpleType)
    assert date.builtin == "date"
    with pytest.raises(ConfigurationError, match="not a built-in"):
        schemas.type("{http://www.w3.org/2001/XMLSchema}datum")


def test_an_unknown_element_or_type_is_a_configuration_error() -> None:
    schemas = fixture_schema("constructs")
    with pytest.raises(ConfigurationError, match="no global element"):
        schemas.element(f"{C}Missing")
    with pytest.raises(ConfigurationError, match="no type"):
        schemas.type(f"{C}Missing")


def test_a_substitution_group_head_is_refused_by_name() -> None:
    schemas = load_schema_set(XSD_DIR / "substitution.xsd")
    with pytest.raises(ConfigurationError, match="shape heads a substitution group"):
        schemas.element("{urn:test:substitution}Drawing")


def _generated_schema(types: int) -> etree._Element:
    """A schema of `types` complex types, type i holding types 2i+1 and 2i+2 (a balanced
    tree, 12 levels for 3,000): the shape of a big generated enterprise contract."""
    xs = "http://www.w3.org/2001/XMLSchema"
    schema = etree.Element(
        f"{{{xs}}}schema",
        nsmap={"xs": xs, "g": "urn:test:generated"},
        targetNamespace="urn:test:generated",
        elementFormDefault="qualified",
    )
    for index in range(types):
        ctype = etree.SubElement(schema, f"{{{xs}}}complexType", name=f"T{index}")
        sequence = etree.SubElement(ctype, f"{{{xs}}}sequence")
        etree.SubElement(sequence, f"{{{xs}}}element", name="code", type="xs:string")
        for child in (2 * index + 1, 2 * index + 2):
            if child < types:
                etree.SubElement(
                    sequence, f"{{{xs}}}element", name=f"c{child}", type=f"g:T{child}",
                    minOccurs="0",
                )  # fmt: skip
        etree.SubElement(schema, f"{{{xs}}}element", name=f"E{index}", type=f"g:T{index}")
    return schema


def test_a_schema_of_three_thousand_types_builds_lazily() -> None:
    schema = _generated_schema(3000)
    schemas = SchemaSet([schema], ContractSchema(etree.XMLSchema(schema)))
    assert len(schemas.elements()) == 3000

    def built() -> list[str]:
        return [name for name in schemas._types if name.startswith("{urn:test:generated}")]

    assert built() == []
    schemas.element("{urn:test:generated}E1500")
    assert built() == ["{urn:test:generated}T1500"]
    root = schemas.element("{urn:test:generated}E0")  # reaches every type, each built once
    assert len(built()) == 3000
    assert root.type is schemas.type("{urn:test:generated}T0")


def test_mixed_content_and_any_type() -> None:
    schemas = fixture_schema("constructs")
    assert _content(schemas, f"{C}Memo").mixed
    blob = _content(schemas, f"{C}Blob")
    assert (blob.name, blob.mixed) == ("{http://www.w3.org/2001/XMLSchema}anyType", True)
    assert blob.content is not None
    wildcard = blob.content.particles[0]
    assert isinstance(wildcard, Wildcard)
    assert (wildcard.process_contents, wildcard.min_occurs, wildcard.max_occurs) == ("lax", 0, None)
