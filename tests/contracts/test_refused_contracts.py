"""Hostile and unsupported contracts are refused, each with the file, the line and the reason;
importing never touches the network and never reads outside the contract's folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.contracts.loader import load_contract
from bridge.domain.errors import ConfigurationError
from tests.common.contracts import byo


def _refusal(path: Path) -> str:
    with pytest.raises(ConfigurationError) as refused:
        load_contract(path, name="svc")
    return refused.value.detail


def test_a_dtd_is_refused_naming_file_and_line() -> None:
    path = byo("hostile_dtd/billion.wsdl")

    assert _refusal(path) == f"{path}:2: a DTD or entity declaration is refused"


def test_an_external_entity_is_refused_before_anything_is_read() -> None:
    path = byo("hostile_entity/xxe.wsdl")

    assert _refusal(path) == f"{path}:2: a DTD or entity declaration is refused"


def test_a_dtd_in_an_imported_schema_is_refused_naming_that_file(tmp_path: Path) -> None:
    shutil.copytree(byo("imports/orders.wsdl").parent, tmp_path, dirs_exist_ok=True)
    party = tmp_path / "schemas" / "party" / "party.xsd"
    text = party.read_text(encoding="utf-8")
    party.write_text(text.replace("?>", '?>\n<!DOCTYPE x SYSTEM "http://evil.example/x.dtd">', 1))

    detail = _refusal(tmp_path / "orders.wsdl")

    assert detail.endswith("party/party.xsd:2: a DTD or entity declaration is refused")


def test_a_remote_xsd_import_is_refused() -> None:
    path = byo("hostile_remote_import/remote.wsdl")

    assert _refusal(path) == (
        f"{path}:9: xsd:import of the remote location 'http://evil.example/steal.xsd' "
        "refused; a contract is read from its own folder, never from the network"
    )


def test_a_remote_wsdl_import_is_refused() -> None:
    path = byo("hostile_remote_wsdl_import/remote.wsdl")

    assert "wsdl:import of the remote location 'https://evil.example/more.wsdl'" in _refusal(path)


def test_a_parent_folder_import_is_refused_though_the_file_exists() -> None:
    path = byo("hostile_parent_import/contract/escape.wsdl")
    assert (path.parent.parent / "outside.xsd").is_file()

    assert _refusal(path) == (
        f"{path}:9: xsd:import of '../outside.xsd' refused: it leaves the contract's folder"
    )


def test_an_absolute_path_include_is_refused() -> None:
    path = byo("hostile_absolute_import/absolute.wsdl")

    assert _refusal(path) == (
        f"{path}:9: xsd:include of the absolute path '/etc/bridge/secret.xsd' refused; "
        "a contract's files are named relative to it"
    )


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(byo("hostile_parent_import/outside.xsd"), outside / "outside.xsd")
    contract = tmp_path / "contract"
    contract.mkdir()
    text = byo("hostile_parent_import/contract/escape.wsdl").read_text(encoding="utf-8")
    (contract / "escape.wsdl").write_text(text.replace("../outside.xsd", "link.xsd"))
    (contract / "link.xsd").symlink_to(outside / "outside.xsd")

    assert "xsd:import of 'link.xsd' refused: it leaves the contract's folder" in _refusal(
        contract / "escape.wsdl"
    )


def test_an_invalid_schema_is_refused_naming_element_and_line() -> None:
    path = byo("invalid_xsd/broken.wsdl")

    detail = _refusal(path)

    assert detail.startswith(f"{path}:9: invalid XML Schema: element decl.")
    assert "Broken" in detail
    assert "NoSuchType" in detail


def test_wsdl_20_is_refused_with_what_to_do() -> None:
    assert "WSDL 2.0 is not supported; import a WSDL 1.1" in _refusal(byo("wsdl20/hello.wsdl"))


def test_soap_encoding_in_document_style_is_refused_naming_the_operation() -> None:
    path = byo("document_encoded/ledger.wsdl")

    assert _refusal(path) == (
        f'{path}:21: operation Post: its input is use="encoded" in document style, which is '
        "not supported; SOAP encoding is served in rpc style only"
    )


def test_an_encoded_part_of_a_soap_encoded_array_is_refused_naming_operation_part_and_line() -> (
    None
):
    path = byo("rpc_encoded_array/scores.wsdl")

    detail = _refusal(path)

    assert detail.startswith(
        f"{path}:15: operation getScores: the output part getScoresReturn (of type "
        "{urn:byo:rpc_encoded_array}Scores) uses soapenc:Array, a type of SOAP encoding"
    )


def _claims_with(tmp_path: Path, old: str, new: str) -> Path:
    text = byo("rpc_encoded/claims.wsdl").read_text(encoding="utf-8")
    assert old in text
    wsdl = tmp_path / "claims.wsdl"
    wsdl.write_text(text.replace(old, new, 1), encoding="utf-8")
    return wsdl


def test_an_encoded_part_of_a_soap_encoding_type_is_refused_naming_it(tmp_path: Path) -> None:
    wsdl = _claims_with(
        tmp_path,
        '<wsdl:part name="holder" type="xsd:string"/>',
        '<wsdl:part name="holder" type="soapenc:string"/>',
    )

    detail = _refusal(wsdl)

    assert "operation countClaims: part holder of message countClaimsRequest is of the SOAP " in (
        detail
    )
    assert "encoding type {http://schemas.xmlsoap.org/soap/encoding/}string" in detail


def test_an_encoded_part_declared_by_element_is_refused(tmp_path: Path) -> None:
    wsdl = _claims_with(
        tmp_path,
        '<wsdl:part name="holder" type="xsd:string"/>',
        '<wsdl:part name="holder" element="impl:Holder"/>',
    )

    detail = _refusal(wsdl)

    assert "operation countClaims: part holder of message countClaimsRequest is declared by " in (
        detail
    )


def test_a_soap_encoding_type_no_part_uses_is_refused_by_its_name(tmp_path: Path) -> None:
    wsdl = _claims_with(
        tmp_path,
        '<complexType name="Claim">',
        '<complexType name="ArrayOfClaim"><complexContent><restriction base="soapenc:Array"/>'
        '</complexContent></complexType><complexType name="Claim">',
    )

    detail = _refusal(wsdl)

    assert "the complexType ArrayOfClaim uses soapenc:Array, a type of SOAP encoding" in detail


def test_an_encoding_style_other_than_the_soap_encoding_is_refused(tmp_path: Path) -> None:
    wsdl = _claims_with(
        tmp_path,
        'encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"',
        'encodingStyle="urn:acme:encoding"',
    )

    detail = _refusal(wsdl)

    assert "operation getClaim: its input has encodingStyle 'urn:acme:encoding'" in detail


def test_an_encoded_header_is_refused(tmp_path: Path) -> None:
    wsdl = _claims_with(
        tmp_path,
        '<wsdlsoap:body use="encoded" namespace="urn:byo:rpc_encoded:calls"/>',
        '<wsdlsoap:header message="impl:countClaimsRequest" part="holder" use="encoded"/>'
        '<wsdlsoap:body use="encoded" namespace="urn:byo:rpc_encoded:calls"/>',
    )

    detail = _refusal(wsdl)

    assert 'operation countClaims: its input header is use="encoded"' in detail


def test_a_document_message_of_several_parts_is_refused_naming_it() -> None:
    detail = _refusal(byo("multipart/multipart.wsdl"))

    assert "operation Ping: its input message PingRequest has 2 body parts" in detail


def test_a_part_naming_an_undeclared_element_is_refused(tmp_path: Path) -> None:
    text = byo("choice/billing.wsdl").read_text(encoding="utf-8")
    wsdl = tmp_path / "billing.wsdl"
    wsdl.write_text(text.replace('element="tns:PayBillResponse"', 'element="tns:Missing"'))

    detail = _refusal(wsdl)

    assert "part parameters of message PayBillResponse names the element" in detail
    assert "{urn:byo:choice}Missing, not in the schema" in detail


def test_a_chameleon_include_is_refused(tmp_path: Path) -> None:
    shutil.copytree(byo("imports/orders.wsdl").parent, tmp_path, dirs_exist_ok=True)
    types = tmp_path / "schemas" / "common" / "types.xsd"
    types.write_text(types.read_text().replace(' targetNamespace="urn:byo:imports:orders"', ""))

    assert "chameleon include" in _refusal(tmp_path / "orders.wsdl")


def test_a_well_known_remote_namespace_import_is_kept_without_reading_it(tmp_path: Path) -> None:
    text = byo("choice/billing.wsdl").read_text(encoding="utf-8")
    encoding = "http://schemas.xmlsoap.org/soap/encoding/"
    wsdl = tmp_path / "billing.wsdl"
    wsdl.write_text(
        text.replace(
            'elementFormDefault="qualified">',
            f'elementFormDefault="qualified">\n<xs:import namespace="{encoding}" '
            f'schemaLocation="{encoding}"/>',
        )
    )

    assert "PayBill" in load_contract(wsdl, name="svc").operations


def test_an_invalid_imported_schema_is_named_by_its_own_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(byo("imports/orders.wsdl").parent, tmp_path, dirs_exist_ok=True)
    orders = tmp_path / "schemas" / "orders.xsd"
    text = orders.read_text(encoding="utf-8")
    orders.write_text(
        text.replace('name="accepted" type="xs:boolean"', 'name="accepted" type="tns:Nope"')
    )
    line = 1 + orders.read_text().splitlines().index(
        '        <xs:element name="accepted" type="tns:Nope"/>'
    )

    detail = _refusal(tmp_path / "orders.wsdl")

    # The file's xsd:include (taken out before libxml2 compiles it) does not shift the line.
    assert detail.startswith(f"{orders}:{line}: invalid XML Schema:")
    assert "Nope" in detail


def test_an_rpc_part_of_a_misspelt_built_in_type_is_refused_naming_it(tmp_path: Path) -> None:
    text = byo("rpc_builtin_parts/greeter.wsdl").read_text(encoding="utf-8")
    wsdl = tmp_path / "greeter.wsdl"
    wsdl.write_text(text.replace('type="xsd:int"', 'type="xsd:integr"'), encoding="utf-8")

    detail = _refusal(wsdl)

    assert detail == (
        f"{wsdl}:12: operation greet: part times of message greetRequest names the type "
        "{http://www.w3.org/2001/XMLSchema}integr, not a built-in type of XSD"
    )
