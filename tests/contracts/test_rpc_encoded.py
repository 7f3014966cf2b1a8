"""RPC/encoded contracts (SOAP encoding whose messages map like literal ones) and RPC parts of
built-in types: the model, the validator, and the step between a literal message and the wire
(`encode_for_wire` / `decode_from_wire`)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from bridge.contracts.loader import load_contract
from bridge.contracts.messages import body_element, decode_from_wire, encode_for_wire
from bridge.contracts.model import Body, Contract, Operation, Part
from bridge.domain.errors import MappingError
from bridge.mapping import xml
from bridge.mapping.generic import MessageCodec, compile_codec
from tests.common.contracts import byo

XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP11_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
CLAIMS = "urn:byo:rpc_encoded"
CALLS = "urn:byo:rpc_encoded:calls"


@pytest.fixture(scope="module")
def claims() -> Contract:
    return load_contract(byo("rpc_encoded/claims.wsdl"), name="claims")


def _codec(contract: Contract, body: Body | None) -> MessageCodec:
    assert body is not None
    return compile_codec(
        body_element(contract, body), wrapped=True, validator=contract.schema.validator
    )


def _xsi_type(element: Any) -> str:
    """The Clark name an element's xsi:type names, resolved by the declarations in scope."""
    prefix, _, local = element.get(f"{{{XSI}}}type").rpartition(":")
    return f"{{{element.nsmap[prefix or None]}}}{local}"


def _reply(name: str) -> Any:
    envelope = xml.parse(byo(f"rpc_encoded/messages/{name}").read_bytes())
    return envelope.find(f"{{{SOAP11_ENV}}}Body")[0]


def test_an_rpc_encoded_operation_is_read_with_its_use_and_body_namespace(
    claims: Contract,
) -> None:
    operation = claims.operations["getClaim"]

    assert operation.style == "rpc"
    assert operation.input.use == "encoded"
    assert operation.input.element == f"{{{CALLS}}}getClaim"
    assert operation.output is not None
    assert operation.output.use == "encoded"
    assert operation.output.element == f"{{{CALLS}}}getClaimResponse"
    assert [part.type for part in operation.input.parts] == [
        f"{{{CLAIMS}}}ClaimId",
        f"{{{XSD}}}boolean",
    ]


def test_an_encoded_body_without_encoding_style_takes_the_soap_11_encoding(
    claims: Contract,
) -> None:
    operation = claims.operations["countClaims"]

    wire = encode_for_wire(
        operation, operation.input, _codec(claims, operation.input).write({"holder": "Ada"})
    )

    assert operation.input.use == "encoded"
    assert wire.get(f"{{{SOAP11_ENV}}}encodingStyle") == SOAP11_ENC


def test_encode_for_wire_types_each_part_and_the_result_is_valid_against_the_contract(
    claims: Contract,
) -> None:
    operation = claims.operations["getClaim"]
    literal = _codec(claims, operation.input).write({"claimId": "C-0042", "withHistory": True})

    wire = encode_for_wire(operation, operation.input, literal)

    assert wire.tag == f"{{{CALLS}}}getClaim"
    assert wire.get(f"{{{SOAP11_ENV}}}encodingStyle") == SOAP11_ENC
    assert [(child.tag, _xsi_type(child), child.text) for child in wire] == [
        ("claimId", f"{{{CLAIMS}}}ClaimId", "C-0042"),
        ("withHistory", f"{{{XSD}}}boolean", "true"),
    ]
    assert claims.schema.validator.violation(wire) is None
    assert literal.get(f"{{{SOAP11_ENV}}}encodingStyle") is None  # the codec's copy untouched


def test_encode_for_wire_leaves_a_literal_body_as_it_is() -> None:
    contract = load_contract(byo("rpc_literal/quotes.wsdl"), name="quotes")
    operation = contract.operations["Ping"]
    literal = _codec(contract, operation.input).write({})

    assert encode_for_wire(operation, operation.input, literal) is literal


def test_encode_for_wire_never_reuses_a_prefix_a_part_rebinds() -> None:
    body = Body("{urn:calls}Ping", (Part("count", type=f"{{{XSD}}}int"),), True, "encoded")
    operation = Operation("Ping", "rpc", "1.1", "", body, None)
    literal = etree.fromstring(
        b'<c:Ping xmlns:c="urn:calls" xmlns:xsd="urn:not-xml-schema">'
        b'<count xmlns:x="urn:other">3</count></c:Ping>'
    )

    (count,) = encode_for_wire(operation, body, literal)

    assert _xsi_type(count) == f"{{{XSD}}}int"
    assert count.get(f"{{{XSI}}}type") == "xsd1:int"


def test_a_soap_12_encoded_body_carries_the_soap_12_encoding_style() -> None:
    body = Body("{urn:calls}Ping", (Part("note", type=f"{{{XSD}}}string"),), True, "encoded")
    operation = Operation("Ping", "rpc", "1.2", "", body, None)
    literal = etree.fromstring(b'<c:Ping xmlns:c="urn:calls"><note>hi</note></c:Ping>')

    wire = encode_for_wire(operation, body, literal)

    assert wire.get("{http://www.w3.org/2003/05/soap-envelope}encodingStyle") == (
        "http://www.w3.org/2003/05/soap-encoding"
    )


def test_an_encoded_reply_decodes_to_the_literal_message_the_codec_reads(
    claims: Contract,
) -> None:
    operation = claims.operations["getClaim"]
    wire = _reply("getClaim.reply.xml")

    decoded = decode_from_wire(wire)

    assert claims.schema.validator.violation(wire) is not None  # soapenc:root is not Claim's
    assert claims.schema.validator.violation(decoded) is None
    assert _codec(claims, operation.output).read(decoded) == {
        "getClaimReturn": {
            "id": "C-0042",
            "amount": "1250.50",
            "opened": "2026-11-30",
            "note": None,
        }
    }
    assert wire[0].get(f"{{{XSI}}}type") == "ns2:Claim"  # the received tree untouched


def test_decode_keeps_xsi_nil_and_turns_the_1999_null_into_it() -> None:
    wire = etree.fromstring(
        b'<c:R xmlns:c="urn:calls" xmlns:x99="http://www.w3.org/1999/XMLSchema-instance">'
        b'<a x99:null="1" x99:type="xsd:string"/><b x99:null="0">v</b></c:R>'
    )

    a, b = decode_from_wire(wire)

    assert dict(a.attrib) == {f"{{{XSI}}}nil": "true"}
    assert dict(b.attrib) == {}


def test_a_multi_reference_reply_is_refused_naming_the_element() -> None:
    with pytest.raises(MappingError) as refused:
        decode_from_wire(_reply("getClaim.multiref.xml"))

    assert refused.value.path == "getClaimResponse/getClaimReturn"
    assert refused.value.got == "#id0"
    assert "multi-reference" in refused.value.expected


def test_an_href_that_is_not_a_reference_is_left_to_the_schema() -> None:
    wire = etree.fromstring(b'<c:R xmlns:c="urn:calls"><link href="https://example.org/"/></c:R>')

    (link,) = decode_from_wire(wire)

    assert link.get("href") == "https://example.org/"


def test_rpc_parts_of_built_in_types_need_no_schema_at_all() -> None:
    contract = load_contract(byo("rpc_builtin_parts/greeter.wsdl"), name="greeter")
    operation = contract.operations["greet"]
    codec = _codec(contract, operation.input)

    request = codec.write({"name": "Ada", "times": 2, "at": "2026-12-04T10:00:00Z"})

    assert [part.type for part in operation.input.parts] == [
        f"{{{XSD}}}string",
        f"{{{XSD}}}int",
        f"{{{XSD}}}dateTime",
    ]
    assert request.tag == "{urn:byo:rpc_builtin_parts:calls}greet"
    assert contract.schema.validator.violation(request) is None
    wrong = etree.fromstring(
        b'<c:greet xmlns:c="urn:byo:rpc_builtin_parts:calls"><name>Ada</name>'
        b"<times>twice</times><at>2026-12-04T10:00:00Z</at></c:greet>"
    )
    assert contract.schema.validator.violation(wrong) is not None


def test_an_rpc_body_without_namespace_takes_the_target_namespace() -> None:
    contract = load_contract(byo("rpc_builtin_parts/greeter.wsdl"), name="greeter")
    operation = contract.operations["round"]

    request = _codec(contract, operation.input).write({"amount": "2.675", "digits": 2})

    assert operation.input.element == "{urn:byo:rpc_builtin_parts}round"
    assert contract.schema.validator.violation(request) is None
