"""Contract tests for the inbound WSDLs: wsdl/banking.wsdl and wsdl/partner.wsdl.

What is checked:
- the project's WSDL conventions (document/literal, SOAP 1.1, one inline schema, one
  ``parameters`` part per message, soapAction = operation name, no nillable, named types);
- lxml compiles the inline schema, and zeep loads each WSDL from its local file with hardened
  settings (``forbid_dtd``, ``forbid_entities``, ``forbid_external``);
- instance documents under tests/data/contracts/: ``<contract>_ok_*.xml`` must validate,
  ``<contract>_bad_*.xml`` must be rejected, with every ``<!-- expect-error: ... -->`` comment
  found in lxml's error log (so a bad document fails for the reason it was written for);
- zeep builds requests that the schema accepts and reads the sample responses.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.exceptions import DTDForbidden

from bridge.mapping.schemas import compile_schema, extract_schema

ROOT = Path(__file__).resolve().parents[1]
WSDL_DIR = ROOT / "wsdl"
DATA_DIR = Path(__file__).resolve().parent / "data" / "contracts"

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_XS = "http://www.w3.org/2001/XMLSchema"
SOAP_HTTP = "http://schemas.xmlsoap.org/soap/http"
NSMAP = {"wsdl": NS_WSDL, "soap": NS_SOAP, "xs": NS_XS}

EXPECT_PREFIX = "expect-error:"

HARDENED = zeep.Settings(
    strict=True,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=True,
)


@dataclass(frozen=True)
class Contract:
    name: str
    namespace: str
    address: str
    prefix: str  # BankingPortType, BankingBinding, BankingService, BankingPort
    # operation -> (request complexType, response complexType), as DESIGN.md names them
    operations: dict[str, tuple[str, str]]

    @property
    def path(self) -> Path:
        return WSDL_DIR / f"{self.name}.wsdl"

    def q(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"


CONTRACTS = {
    "banking": Contract(
        name="banking",
        namespace="urn:bridge:banking:v1",
        address="http://127.0.0.1:8080/soap/banking",
        prefix="Banking",
        operations={
            "TransferFunds": ("TransferRequest", "TransferResponse"),
            "VerifyAccount": ("AccountVerificationRequest", "AccountVerificationResponse"),
            "GetTransferStatus": ("TransferStatusRequest", "TransferResponse"),
            "GetTransactions": ("TransactionsRequest", "TransactionsResponse"),
        },
    ),
    "partner": Contract(
        name="partner",
        namespace="urn:bridge:partner:v1",
        address="http://127.0.0.1:8080/soap/partner",
        prefix="Partner",
        operations={
            "UpdateDeliveryStatus": ("DeliveryStatusUpdate", "Ack"),
            "GetShippingDetails": ("ShippingDetailsRequest", "ShippingDetails"),
        },
    ),
}
CONTRACT_NAMES = sorted(CONTRACTS)


# --------------------------------------------------------------------------- helpers


def _parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads no DTD and touches no network."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def _parse(path: Path) -> etree._ElementTree:
    tree = etree.parse(str(path), _parser())
    assert tree.docinfo.doctype == "", f"{path.name} must not carry a DOCTYPE"
    return tree


@functools.cache
def _wsdl(name: str) -> etree._Element:
    return _parse(CONTRACTS[name].path).getroot()


def _schema_element(name: str) -> etree._Element:
    """The inline xs:schema, standalone, as the bridge itself extracts it at start-up."""
    schema: etree._Element = extract_schema(CONTRACTS[name].path)
    return schema


def _xml_schema(name: str) -> etree.XMLSchema:
    schema: etree.XMLSchema = compile_schema(CONTRACTS[name].path)
    return schema


@functools.cache
def _client(name: str) -> zeep.Client:
    return zeep.Client(wsdl=str(CONTRACTS[name].path), settings=HARDENED)


def _expected_errors(tree: etree._ElementTree) -> list[str]:
    """The text of every top-level ``<!-- expect-error: ... -->`` comment of a document."""
    found = []
    for node in tree.getroot().itersiblings(preceding=True):
        if isinstance(node, etree._Comment):
            text = (node.text or "").strip()
            if text.startswith(EXPECT_PREFIX):
                found.append(text[len(EXPECT_PREFIX) :].strip())
    return found


def _samples(kind: str) -> list[Any]:
    params = []
    for path in sorted(DATA_DIR.glob(f"*_{kind}_*.xml")):
        contract = path.name.split("_", 1)[0]
        params.append(pytest.param(contract, path, id=path.stem))
    return params


OK_SAMPLES = _samples("ok")
BAD_SAMPLES = _samples("bad")


def _global_elements(name: str) -> dict[str, str]:
    schema = _schema_element(name)
    return {e.get("name"): e.get("type") for e in schema.findall("xs:element", NSMAP)}


# ------------------------------------------------------------------ WSDL conventions


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_inline_schema_compiles_with_lxml(name: str) -> None:
    schema = _xml_schema(name)
    assert isinstance(schema, etree.XMLSchema)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_inline_schema_declares_its_own_prefixes(name: str) -> None:
    # Tools that lift the schema out of the WSDL without reconciling namespaces still work.
    inline = _wsdl(name).find("wsdl:types/xs:schema", NSMAP)
    assert inline is not None
    raw = etree.fromstring(etree.tostring(inline), _parser())
    etree.XMLSchema(raw)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_schema_header_and_no_imports(name: str) -> None:
    contract = CONTRACTS[name]
    root = _wsdl(name)
    schema = _schema_element(name)
    assert root.get("targetNamespace") == contract.namespace
    assert root.nsmap.get("tns") == contract.namespace
    assert root.nsmap.get("xs") == NS_XS
    assert schema.get("targetNamespace") == contract.namespace
    assert schema.get("elementFormDefault") == "qualified"
    assert schema.get("attributeFormDefault") == "unqualified"
    for forbidden in ("xs:import", "xs:include", "xs:redefine", "xs:any", "xs:anyAttribute"):
        assert schema.findall(f".//{forbidden}", NSMAP) == [], forbidden
    assert root.findall("wsdl:import", NSMAP) == []


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_no_nillable_and_no_anonymous_types(name: str) -> None:
    schema = _schema_element(name)
    assert schema.xpath(".//*[@nillable]") == []
    for tag in ("complexType", "simpleType"):
        for node in schema.iter(f"{{{NS_XS}}}{tag}"):
            assert node.getparent() is schema, f"anonymous xs:{tag} (use a named type)"
            assert node.get("name"), f"xs:{tag} without a name"
    for element in schema.findall("xs:element", NSMAP):
        assert element.get("type"), f"global element {element.get('name')} needs a named type"


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_operation_elements_messages_and_port_type(name: str) -> None:
    contract = CONTRACTS[name]
    root = _wsdl(name)
    elements = _global_elements(name)
    for op, (request_type, response_type) in contract.operations.items():
        assert elements[op] == f"tns:{request_type}", op
        assert elements[f"{op}Response"] == f"tns:{response_type}", op

    messages = {m.get("name"): m for m in root.findall("wsdl:message", NSMAP)}
    for op in contract.operations:
        for message_name in (op, f"{op}Response"):
            parts = messages[message_name].findall("wsdl:part", NSMAP)
            assert len(parts) == 1, message_name
            assert parts[0].get("name") == "parameters"
            assert parts[0].get("element") == f"tns:{message_name}"

    port_types = root.findall("wsdl:portType", NSMAP)
    assert [p.get("name") for p in port_types] == [f"{contract.prefix}PortType"]
    operations = port_types[0].findall("wsdl:operation", NSMAP)
    assert [o.get("name") for o in operations] == list(contract.operations)
    for operation in operations:
        op = operation.get("name")
        docs = operation.findall("wsdl:documentation", NSMAP)
        assert len(docs) == 1, f"{op}: one wsdl:documentation"
        text = (docs[0].text or "").strip()
        assert text, op
        assert "\n" not in text, f"{op}: documentation is one line"
        assert operation.find("wsdl:input", NSMAP).get("message") == f"tns:{op}"
        assert operation.find("wsdl:output", NSMAP).get("message") == f"tns:{op}Response"
        for fault in operation.findall("wsdl:fault", NSMAP):
            message = messages[fault.get("message").removeprefix("tns:")]
            (part,) = message.findall("wsdl:part", NSMAP)
            assert part.get("element").removeprefix("tns:") in elements


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_binding_and_service(name: str) -> None:
    contract = CONTRACTS[name]
    root = _wsdl(name)
    (binding,) = root.findall("wsdl:binding", NSMAP)
    assert binding.get("name") == f"{contract.prefix}Binding"
    assert binding.get("type") == f"tns:{contract.prefix}PortType"
    soap_binding = binding.find("soap:binding", NSMAP)
    assert soap_binding.get("style") == "document"
    assert soap_binding.get("transport") == SOAP_HTTP

    operations = binding.findall("wsdl:operation", NSMAP)
    assert [o.get("name") for o in operations] == list(contract.operations)
    for operation in operations:
        soap_operation = operation.find("soap:operation", NSMAP)
        assert soap_operation.get("soapAction") == operation.get("name")
        assert soap_operation.get("style") == "document"
        for direction in ("input", "output"):
            body = operation.find(f"wsdl:{direction}/soap:body", NSMAP)
            assert body.get("use") == "literal"
        for fault in operation.findall("wsdl:fault", NSMAP):
            assert fault.find("soap:fault", NSMAP).get("use") == "literal"

    (service,) = root.findall("wsdl:service", NSMAP)
    assert service.get("name") == f"{contract.prefix}Service"
    (port,) = service.findall("wsdl:port", NSMAP)
    assert port.get("name") == f"{contract.prefix}Port"
    assert port.get("binding") == f"tns:{contract.prefix}Binding"
    assert port.find("soap:address", NSMAP).get("location") == contract.address


# ----------------------------------------------------------------------------- zeep


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_zeep_loads_local_wsdl_with_hardened_settings(name: str) -> None:
    # forbid_external only blocks transitive http(s) fetches; the local entry point loads.
    contract = CONTRACTS[name]
    client = _client(name)
    assert set(client.service._operations) == set(contract.operations)
    for op in contract.operations:
        assert callable(getattr(client.service, op))
    port = client.wsdl.services[f"{contract.prefix}Service"].ports[f"{contract.prefix}Port"]
    assert port.binding_options["address"] == contract.address
    for op in contract.operations:
        assert port.binding.get(op).soapaction == op


def test_zeep_settings_refuse_a_doctype(tmp_path: Path) -> None:
    # The hardened settings this project uses really refuse a DTD (no XXE through a WSDL).
    text = CONTRACTS["partner"].path.read_text(encoding="utf-8")
    hostile = text.replace(
        "<wsdl:definitions",
        '<!DOCTYPE wsdl:definitions [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<wsdl:definitions',
        1,
    )
    path = tmp_path / "hostile.wsdl"
    path.write_text(hostile, encoding="utf-8")
    with pytest.raises(DTDForbidden):
        zeep.Client(wsdl=str(path), settings=HARDENED)


def _body_child(envelope: etree._Element) -> etree._Element:
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    (child,) = list(body)
    return child


ZEEP_REQUESTS = [
    pytest.param(
        "banking",
        "TransferFunds",
        {
            "MsgId": "PB-1",
            "CreDtTm": dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC),
            "ReqdExctnDt": dt.date(2025, 3, 3),
            "Amt": {"_value_1": Decimal("1250.50"), "Ccy": "EUR"},
            "Dbtr": {
                "Nm": "Müller & Söhne GmbH",
                "Acct": {"IBAN": "DE89370400440532013000"},
                "Agt": {"BICFI": "COBADEFFXXX"},
            },
            "Cdtr": {"Nm": "Nguyễn Văn An 山田", "Acct": {"Othr": {"Id": "0123456789"}}},
            "RmtInf": {"Ustrd": "Hóa đơn 42"},
            "ChrgBr": "SHAR",
        },
        id="TransferFunds",
    ),
    pytest.param(
        "banking",
        "VerifyAccount",
        {"Acct": {"IBAN": "GB29NWBK60161331926819"}, "Nm": "José Álvarez"},
        id="VerifyAccount",
    ),
    pytest.param("banking", "GetTransferStatus", {"TxId": "TX-1"}, id="GetTransferStatus"),
    pytest.param(
        "banking",
        "GetTransactions",
        {
            "Acct": {"Othr": {"Id": "4711"}},
            "FrDt": dt.date(2025, 3, 1),
            "ToDt": dt.date(2025, 3, 31),
            "PgNb": 1,
            "PgSz": 100,
        },
        id="GetTransactions",
    ),
    pytest.param(
        "partner",
        "UpdateDeliveryStatus",
        {
            "ShipmentRef": "SHP-2025-000123",
            "TrackingNo": "1Z999AA10123456784",
            "StatusCode": "DELIVERED",
            "EventTime": dt.datetime(2025, 3, 4, 11, 42, tzinfo=dt.UTC),
            "Location": {
                "City": "Düsseldorf",
                "CountryCode": "DE",
                "Lat": Decimal("51.2254"),
                "Lon": Decimal("6.7763"),
            },
            "Note": "Abgegeben bei Nachbar",
        },
        id="UpdateDeliveryStatus",
    ),
    pytest.param(
        "partner", "GetShippingDetails", {"ShipmentRef": "SHP-2025-000123"}, id="GetShippingDetails"
    ),
]


@pytest.mark.parametrize(("name", "operation", "kwargs"), ZEEP_REQUESTS)
def test_zeep_builds_requests_the_schema_accepts(
    name: str, operation: str, kwargs: dict[str, Any]
) -> None:
    client = _client(name)
    envelope = client.create_message(client.service, operation, **kwargs)
    request = _body_child(envelope)
    assert request.tag == CONTRACTS[name].q(operation)
    schema = _xml_schema(name)
    assert schema.validate(request), str(schema.error_log)


def test_zeep_reads_a_transfer_response() -> None:
    client = _client("banking")
    element = client.get_element("{urn:bridge:banking:v1}GetTransferStatusResponse")
    node = _parse(DATA_DIR / "banking_ok_get_transfer_status_response_rejected.xml").getroot()
    value = element.parse(node, client.wsdl.types)
    assert value.Sts == "RJCT"
    assert value.StsRsn.Cd == "AM04"
    assert value.BookgDt is None


def test_zeep_reads_transactions_with_decimal_amounts() -> None:
    client = _client("banking")
    element = client.get_element("{urn:bridge:banking:v1}GetTransactionsResponse")
    node = _parse(DATA_DIR / "banking_ok_get_transactions_response.xml").getroot()
    value = element.parse(node, client.wsdl.types)
    assert [tx.Amt._value_1 for tx in value.Tx] == [Decimal("150000"), Decimal("19.99")]
    assert [tx.Amt.Ccy for tx in value.Tx] == ["JPY", "EUR"]
    assert value.Tx[0].Nm == "株式会社山田商事"
    assert value.MoreData is True


def test_zeep_reads_shipping_details_history() -> None:
    client = _client("partner")
    element = client.get_element("{urn:bridge:partner:v1}GetShippingDetailsResponse")
    node = _parse(DATA_DIR / "partner_ok_get_shipping_details_response_full.xml").getroot()
    value = element.parse(node, client.wsdl.types)
    assert [e.StatusCode for e in value.Event] == ["PICKED_UP", "DELIVERED"]
    assert value.Event[1].Location.Lat == Decimal("51.2254")
    assert value.Consignee.Address.City == "Düsseldorf"


# ---------------------------------------------------------------- instance documents


def test_sample_documents_cover_every_global_element() -> None:
    seen: dict[str, set[str]] = {name: set() for name in CONTRACT_NAMES}
    for param in OK_SAMPLES:
        contract, path = param.values
        seen[contract].add(etree.QName(_parse(path).getroot()).localname)
    for name in CONTRACT_NAMES:
        assert set(_global_elements(name)) <= seen[name], name
    bad_by_contract = {name: 0 for name in CONTRACT_NAMES}
    for param in BAD_SAMPLES:
        contract, _ = param.values
        bad_by_contract[contract] += 1
    assert all(count >= 10 for count in bad_by_contract.values()), bad_by_contract


@pytest.mark.parametrize(("contract", "path"), OK_SAMPLES)
def test_valid_document_is_accepted(contract: str, path: Path) -> None:
    tree = _parse(path)
    assert _expected_errors(tree) == [], "an _ok_ sample must not expect errors"
    schema = _xml_schema(contract)
    assert schema.validate(tree), str(schema.error_log)


@pytest.mark.parametrize(("contract", "path"), BAD_SAMPLES)
def test_invalid_document_is_rejected_for_the_stated_reason(contract: str, path: Path) -> None:
    tree = _parse(path)
    expected = _expected_errors(tree)
    assert expected, f"{path.name}: add <!-- {EXPECT_PREFIX} ... --> before the root element"
    schema = _xml_schema(contract)
    assert not schema.validate(tree), f"{path.name} was accepted"
    log = "\n".join(error.message for error in schema.error_log)
    for fragment in expected:
        assert fragment in log, f"{fragment!r} not in:\n{log}"
