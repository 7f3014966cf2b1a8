"""Imported-contract helpers: where the fixtures lie, and a generated WSDL of thousands of types.

The bring-your-own-WSDL fixtures are files under tests/data/contracts/byo/ (one folder per
construct, listed in its README). The large one is generated: a file of 3,000 types is 1 MB of
repetition nobody would review, so `large_contract_wsdl` writes it on demand, deterministically.
"""

from __future__ import annotations

from pathlib import Path

BYO = Path(__file__).resolve().parents[1] / "data" / "contracts" / "byo"
PROJECT_CONTRACTS = Path(__file__).resolve().parents[2] / "wsdl"
# Real contracts nobody here wrote (see its README); absent in a fresh clone.
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "wsdl-corpus"


def byo(relative: str) -> Path:
    """A fixture under tests/data/contracts/byo/, e.g. byo("rpc_literal/quotes.wsdl")."""
    path = BYO / relative
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def large_contract_wsdl(types: int = 3_000, operations: int = 20) -> str:
    """A document/literal WSDL whose schema declares `types` complex types (a binary tree of
    references, so every type is reachable from `Catalogue` and none nests deeper than about
    log2(types) levels) and `types // 10` simple types, with `operations` operations."""
    ns = "urn:byo:large"
    simple = max(1, types // 10)
    schema: list[str] = []
    for index in range(simple):
        schema.append(
            f'<xs:simpleType name="Code{index}"><xs:restriction base="xs:string">'
            f'<xs:maxLength value="{8 + index % 24}"/></xs:restriction></xs:simpleType>'
        )
    for index in range(types):
        children = [
            f'<xs:element name="code" type="tns:Code{index % simple}"/>',
            '<xs:element name="amount" type="xs:decimal" minOccurs="0"/>',
        ]
        for child in (2 * index + 1, 2 * index + 2):
            if child < types:
                children.append(
                    f'<xs:element name="item{child}" type="tns:Type{child}" minOccurs="0"/>'
                )
        schema.append(
            f'<xs:complexType name="Type{index}"><xs:sequence>{"".join(children)}'
            f'</xs:sequence><xs:attribute name="id" type="xs:int"/></xs:complexType>'
        )
    schema.append('<xs:element name="Catalogue" type="tns:Type0"/>')
    messages, port_ops, binding_ops = [], [], []
    for index in range(operations):
        op = f"Operation{index}"
        target = index * types // max(1, operations)
        schema.append(
            f'<xs:element name="{op}"><xs:complexType><xs:sequence>'
            f'<xs:element name="subject" type="tns:Type{target}"/>'
            f"</xs:sequence></xs:complexType></xs:element>"
            f'<xs:element name="{op}Response"><xs:complexType><xs:sequence>'
            f'<xs:element name="code" type="tns:Code{index % simple}"/>'
            f"</xs:sequence></xs:complexType></xs:element>"
        )
        messages.append(
            f'<wsdl:message name="{op}In"><wsdl:part name="parameters" element="tns:{op}"/>'
            f'</wsdl:message><wsdl:message name="{op}Out">'
            f'<wsdl:part name="parameters" element="tns:{op}Response"/></wsdl:message>'
        )
        port_ops.append(
            f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}In"/>'
            f'<wsdl:output message="tns:{op}Out"/></wsdl:operation>'
        )
        binding_ops.append(
            f'<wsdl:operation name="{op}"><soap:operation soapAction="{ns}:{op}"/>'
            '<wsdl:input><soap:body use="literal"/></wsdl:input>'
            '<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
        )
    newline = "\n"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="{ns}" targetNamespace="{ns}">
<wsdl:types>
<xs:schema targetNamespace="{ns}" elementFormDefault="qualified">
{newline.join(schema)}
</xs:schema>
</wsdl:types>
{newline.join(messages)}
<wsdl:portType name="LargePortType">
{newline.join(port_ops)}
</wsdl:portType>
<wsdl:binding name="LargeBinding" type="tns:LargePortType">
<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
{newline.join(binding_ops)}
</wsdl:binding>
<wsdl:service name="LargeService">
<wsdl:port name="LargePort" binding="tns:LargeBinding">
<soap:address location="http://legacy.example/large"/>
</wsdl:port>
</wsdl:service>
</wsdl:definitions>
"""


def corpus_wsdls() -> list[Path]:
    """The corpus's WSDLs that are contracts of their own: a file another corpus WSDL imports
    (`soap_import_2.wsdl`, the abstract half of `soap_import_main.wsdl`) is left out."""
    if not CORPUS.is_dir():
        return []
    found = sorted(CORPUS.glob("*/*.wsdl"))
    imported = set()
    for path in found:
        text = path.read_text(encoding="utf-8", errors="replace")
        imported |= {other for other in found if f'location="{other.name}"' in text}
    return [path for path in found if path not in imported]
