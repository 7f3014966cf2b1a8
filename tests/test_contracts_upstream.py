"""Contract tests for the upstream WSDLs under wsdl/upstream/ (the systems zeep calls).

What is checked:
- the project's WSDL conventions (document/literal, SOAP 1.1, one inline schema without imports,
  one ``parameters`` part per message, soapAction = operation name, named types, no nillable,
  no unbounded strings, a one-line documentation per operation);
- lxml compiles each inline schema, and zeep loads each WSDL from its local file with hardened
  settings and binds every operation to the request and response types named below;
- instance documents under tests/data/contracts/: ``<contract>_valid_*.xml`` must validate,
  ``<contract>_invalid_*.xml`` must be rejected, and the first schema error must blame the
  element named by the sample's ``<!-- rejects: element (why) -->`` comment, so that an invalid
  sample cannot pass by failing for another reason than the one it was written for;
- zeep writes every valid request sample back unchanged from what it parsed, and reads every
  valid response sample as its operation's output.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.helpers import serialize_object

from bridge.mapping.schemas import compile_schema, extract_schema

ROOT = Path(__file__).resolve().parents[1]
WSDL_DIR = ROOT / "wsdl" / "upstream"
DATA_DIR = Path(__file__).resolve().parent / "data" / "contracts"

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_XS = "http://www.w3.org/2001/XMLSchema"
NS_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_HTTP = "http://schemas.xmlsoap.org/soap/http"
NSMAP = {"wsdl": NS_WSDL, "soap": NS_SOAP, "xs": NS_XS}

# forbid_external only blocks transitive http(s) fetches; the WSDL itself is a local file.
HARDENED = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)

REJECTS = re.compile(r"^\s*rejects:\s*(\S+)")
BLAMED_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([^']+)'")


@dataclass(frozen=True)
class Contract:
    name: str
    system: str  # CoreBankPortType, CoreBankBinding, CoreBankService, CoreBankPort
    namespace: str
    address: str
    # operation -> (request complexType, response complexType)
    operations: dict[str, tuple[str, str]]

    @property
    def path(self) -> Path:
        return WSDL_DIR / f"{self.name}.wsdl"

    def q(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"


CONTRACTS = {
    "corebank": Contract(
        name="corebank",
        system="CoreBank",
        namespace="urn:corebank:payments:v1",
        address="http://127.0.0.1:8080/sims/corebank",
        operations={
            "PostPayment": ("PostPaymentRequest", "PostPaymentResult"),
            "InquirePayment": ("InquirePaymentRequest", "InquirePaymentResult"),
            "ValidateAccount": ("ValidateAccountRequest", "ValidateAccountResult"),
            "GetStatement": ("GetStatementRequest", "GetStatementResult"),
        },
    ),
    "payroll": Contract(
        name="payroll",
        system="Payroll",
        namespace="urn:payroll:v1",
        address="http://127.0.0.1:8080/sims/payroll",
        operations={
            "UpsertEmployee": ("UpsertEmployeeRequest", "UpsertEmployeeResult"),
            "SubmitPayrollBatch": ("SubmitPayrollBatchRequest", "SubmitPayrollBatchResult"),
        },
    ),
    "logistics": Contract(
        name="logistics",
        system="Logistics",
        namespace="urn:logistics:booking:v1",
        address="http://127.0.0.1:8080/sims/logistics",
        operations={
            "CreateShipment": ("CreateShipmentRequest", "CreateShipmentResult"),
        },
    ),
    "classifier": Contract(
        name="classifier",
        system="Classifier",
        namespace="urn:classifier:v1",
        address="http://127.0.0.1:8080/sims/classifier",
        operations={
            "ClassifyText": ("ClassifyTextRequest", "ClassifyTextResult"),
            "ClassifyBatch": ("ClassifyBatchRequest", "ClassifyBatchResult"),
        },
    ),
}
CONTRACT_NAMES = list(CONTRACTS)


# --------------------------------------------------------------------------- helpers


def _parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads no DTD and touches no network."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)


def _parse(path: Path) -> etree._ElementTree:
    tree = etree.parse(str(path), _parser())
    assert tree.docinfo.doctype == "", f"{path.name} must not carry a DOCTYPE"
    return tree


@functools.cache
def _wsdl(name: str) -> etree._Element:
    return _parse(CONTRACTS[name].path).getroot()


def _inline_schema(name: str) -> etree._Element:
    schemas = _wsdl(name).findall("wsdl:types/xs:schema", NSMAP)
    assert len(schemas) == 1, "exactly one inline xs:schema"
    return schemas[0]


def _standalone_schema(name: str) -> etree._Element:
    """The inline xs:schema, standalone, as the bridge itself extracts it at start-up."""
    schema: etree._Element = extract_schema(CONTRACTS[name].path)
    return schema


def _xml_schema(name: str) -> etree.XMLSchema:
    schema: etree.XMLSchema = compile_schema(CONTRACTS[name].path)
    return schema


@functools.cache
def _client(name: str) -> zeep.Client:
    return zeep.Client(wsdl=str(CONTRACTS[name].path), settings=HARDENED)


def _operation(name: str, operation: str) -> Any:
    return _client(name).service._binding.get(operation)


def _samples(validity: str) -> list[Any]:
    params = []
    for name in CONTRACT_NAMES:
        for path in sorted(DATA_DIR.glob(f"{name}_{validity}_*.xml")):
            params.append(pytest.param(name, path, id=path.stem))
    return params


VALID_SAMPLES = _samples("valid")
INVALID_SAMPLES = _samples("invalid")
VALID_RESPONSE_SAMPLES = [
    p
    for p in VALID_SAMPLES
    if etree.QName(_parse(p.values[1]).getroot()).localname.endswith("Response")
]


def _is_request(name: str, root: etree._Element) -> bool:
    return etree.QName(root).localname in CONTRACTS[name].operations


def _canonical(element: etree._Element) -> str:
    """C14N 2.0 without comments, whitespace-only text or prefix choices."""
    return etree.canonicalize(
        etree.tostring(element, encoding="unicode"),
        with_comments=False,
        strip_text=True,
        rewrite_prefixes=True,
    )


def _envelope(body_child: etree._Element) -> etree._Element:
    envelope = etree.Element(f"{{{NS_ENV}}}Envelope", nsmap={"soapenv": NS_ENV})
    body = etree.SubElement(envelope, f"{{{NS_ENV}}}Body")
    body.append(copy.deepcopy(body_child))
    return envelope


# ------------------------------------------------------------------ schema conventions


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_inline_schema_compiles_with_lxml(name: str) -> None:
    assert isinstance(_xml_schema(name), etree.XMLSchema)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_inline_schema_compiles_when_lifted_out_without_its_wsdl(name: str) -> None:
    # The schema declares tns and xs itself, so tools that serialise it alone still work.
    lifted = etree.fromstring(etree.tostring(_inline_schema(name)), _parser())
    etree.XMLSchema(lifted)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_schema_header_and_no_imports(name: str) -> None:
    contract = CONTRACTS[name]
    root = _wsdl(name)
    schema = _inline_schema(name)
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
def test_every_type_is_named_and_no_element_is_nillable(name: str) -> None:
    schema = _inline_schema(name)
    for kind in ("xs:complexType", "xs:simpleType"):
        for node in schema.iter(f"{{{NS_XS}}}{kind[3:]}"):
            assert node.get("name"), f"anonymous {kind} on line {node.sourceline}"
            assert node.getparent() is schema, f"nested {kind} {node.get('name')}"
    for element in schema.iter(f"{{{NS_XS}}}element"):
        assert element.get("type"), f"element {element.get('name')} has no named type"
        assert element.get("nillable") is None, f"element {element.get('name')} is nillable"


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_no_element_takes_an_unrestricted_string_or_number(name: str) -> None:
    # Strict contracts: text is bounded by a length or a pattern, numbers by a range.
    loose = {"xs:string", "xs:token", "xs:normalizedString", "xs:decimal", "xs:integer"}
    for element in _inline_schema(name).iter(f"{{{NS_XS}}}element"):
        assert element.get("type") not in loose, element.get("name")


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_message_element_has_a_named_complex_type(name: str) -> None:
    contract = CONTRACTS[name]
    schema = _inline_schema(name)
    elements = {e.get("name"): e.get("type") for e in schema.findall("xs:element", NSMAP)}
    complex_types = {t.get("name") for t in schema.findall("xs:complexType", NSMAP)}
    expected = {}
    for operation, (request_type, response_type) in contract.operations.items():
        expected[operation] = f"tns:{request_type}"
        expected[f"{operation}Response"] = f"tns:{response_type}"
        assert {request_type, response_type} <= complex_types
    assert elements == expected


# -------------------------------------------------------------------- WSDL conventions


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_messages_have_one_parameters_part(name: str) -> None:
    contract = CONTRACTS[name]
    messages = {m.get("name"): m for m in _wsdl(name).findall("wsdl:message", NSMAP)}
    expected = {n for op in contract.operations for n in (op, f"{op}Response")}
    assert set(messages) == expected
    for message_name, message in messages.items():
        parts = message.findall("wsdl:part", NSMAP)
        assert [(p.get("name"), p.get("element")) for p in parts] == [
            ("parameters", f"tns:{message_name}")
        ]


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_port_type_documents_each_operation_in_one_line(name: str) -> None:
    contract = CONTRACTS[name]
    port_types = _wsdl(name).findall("wsdl:portType", NSMAP)
    assert [p.get("name") for p in port_types] == [f"{contract.system}PortType"]
    operations = port_types[0].findall("wsdl:operation", NSMAP)
    assert [o.get("name") for o in operations] == list(contract.operations)
    for operation in operations:
        op = operation.get("name")
        doc = operation[0]
        assert doc.tag == f"{{{NS_WSDL}}}documentation", f"{op}: documentation comes first"
        text = (doc.text or "").strip()
        assert text, f"{op}: empty documentation"
        assert "\n" not in text, f"{op}: documentation is one line"
        assert operation.find("wsdl:input", NSMAP).get("message") == f"tns:{op}"
        assert operation.find("wsdl:output", NSMAP).get("message") == f"tns:{op}Response"


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_binding_is_soap11_document_literal_with_bare_soap_actions(name: str) -> None:
    contract = CONTRACTS[name]
    bindings = _wsdl(name).findall("wsdl:binding", NSMAP)
    assert [b.get("name") for b in bindings] == [f"{contract.system}Binding"]
    binding = bindings[0]
    assert binding.get("type") == f"tns:{contract.system}PortType"
    soap_binding = binding.find("soap:binding", NSMAP)
    assert soap_binding.get("style") == "document"
    assert soap_binding.get("transport") == SOAP_HTTP
    operations = binding.findall("wsdl:operation", NSMAP)
    assert [o.get("name") for o in operations] == list(contract.operations)
    for operation in operations:
        soap_operation = operation.find("soap:operation", NSMAP)
        assert soap_operation.get("soapAction") == operation.get("name")
        assert soap_operation.get("style") == "document"
        for direction in ("wsdl:input", "wsdl:output"):
            bodies = operation.findall(f"{direction}/soap:body", NSMAP)
            assert [b.attrib for b in bodies] == [{"use": "literal"}]
        assert operation.findall("wsdl:fault", NSMAP) == []


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_service_has_one_port_at_the_simulator_address(name: str) -> None:
    contract = CONTRACTS[name]
    services = _wsdl(name).findall("wsdl:service", NSMAP)
    assert [s.get("name") for s in services] == [f"{contract.system}Service"]
    ports = services[0].findall("wsdl:port", NSMAP)
    assert [(p.get("name"), p.get("binding")) for p in ports] == [
        (f"{contract.system}Port", f"tns:{contract.system}Binding")
    ]
    assert ports[0].find("soap:address", NSMAP).get("location") == contract.address


# ------------------------------------------------------------------------------ zeep


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_zeep_loads_the_local_file_with_hardened_settings(name: str) -> None:
    contract = CONTRACTS[name]
    client = _client(name)
    service = client.wsdl.services[f"{contract.system}Service"]
    port = service.ports[f"{contract.system}Port"]
    assert port.binding_options["address"] == contract.address
    assert set(port.binding._operations) == set(contract.operations)


@pytest.mark.parametrize(
    ("name", "operation"),
    [(name, op) for name in CONTRACT_NAMES for op in CONTRACTS[name].operations],
)
def test_zeep_binds_the_operation_to_its_named_types(name: str, operation: str) -> None:
    contract = CONTRACTS[name]
    request_type, response_type = contract.operations[operation]
    bound = _operation(name, operation)
    assert bound.soapaction == operation
    assert bound.style == "document"
    assert bound.input.body.qname == contract.q(operation)
    assert bound.input.body.type.qname == contract.q(request_type)
    assert bound.output.body.qname == contract.q(f"{operation}Response")
    assert bound.output.body.type.qname == contract.q(response_type)


# --------------------------------------------------------------------- sample messages


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_operation_has_a_valid_request_and_response_sample(name: str) -> None:
    roots = {
        etree.QName(_parse(path).getroot()).localname
        for path in DATA_DIR.glob(f"{name}_valid_*.xml")
    }
    for operation in CONTRACTS[name].operations:
        assert {operation, f"{operation}Response"} <= roots, operation


@pytest.mark.parametrize(("name", "path"), VALID_SAMPLES)
def test_valid_sample_is_accepted(name: str, path: Path) -> None:
    schema = _xml_schema(name)
    schema.validate(_parse(path))
    assert list(schema.error_log) == []


@pytest.mark.parametrize(("name", "path"), INVALID_SAMPLES)
def test_invalid_sample_is_rejected_for_the_element_it_names(name: str, path: Path) -> None:
    tree = _parse(path)
    comments = [
        node.text or ""
        for node in tree.getroot().itersiblings(preceding=True)
        if isinstance(node, etree._Comment)
    ]
    named = [m.group(1) for m in map(REJECTS.match, comments) if m]
    assert len(named) == 1, f"{path.name} needs one <!-- rejects: element (why) --> comment"

    schema = _xml_schema(name)
    assert not schema.validate(tree)
    first_error = schema.error_log[0].message
    blamed = BLAMED_ELEMENT.match(first_error)
    assert blamed, first_error
    assert blamed.group(1) == named[0], first_error


@pytest.mark.parametrize(("name", "path"), VALID_SAMPLES)
def test_zeep_round_trips_the_valid_sample_unchanged(name: str, path: Path) -> None:
    client = _client(name)
    root = _parse(path).getroot()
    element = client.get_element(etree.QName(root).text)
    value = element.parse(root, client.wsdl.types)

    if _is_request(name, root):
        operation = etree.QName(root).localname
        envelope = client.create_message(
            client.service, operation, **{field: value[field] for field in value}
        )
        written = envelope.find(f"{{{NS_ENV}}}Body")[0]
    else:
        holder = etree.Element("holder")
        element.render(holder, value)
        written = holder[0]

    assert _xml_schema(name).validate(written)
    assert _canonical(written) == _canonical(root)


@pytest.mark.parametrize(("name", "path"), VALID_RESPONSE_SAMPLES)
def test_zeep_reads_the_valid_response_sample_as_the_operation_output(
    name: str, path: Path
) -> None:
    client = _client(name)
    root = _parse(path).getroot()
    bound = _operation(name, etree.QName(root).localname.removesuffix("Response"))

    result = serialize_object(bound.output.deserialize(_envelope(root)), dict)

    parsed = serialize_object(
        client.get_element(etree.QName(root).text).parse(root, client.wsdl.types), dict
    )
    # zeep unwraps a response type with a single child (ClassifyBatchResult -> list of Result).
    expected = parsed[next(iter(parsed))] if len(parsed) == 1 else parsed
    assert result == expected
