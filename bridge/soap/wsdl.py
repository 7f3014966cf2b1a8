"""The banking contract as served at ``?wsdl``, and a canonical form to compare WSDLs by.

The bridge serves the checked-in contract, with only ``soap:address`` rewritten to the public
address, rather than the document spyne generates from `bridge.soap.banking`: partners validate
against the checked-in file, and spyne's document, although equivalent (a test proves it), names
messages, parts, port type, binding and service after Python classes, declares a global element
for every complex type and a dozen unused namespaces. Equivalent is checked, identical is served.

`canonical` reduces a WSDL 1.1 document to what a SOAP stack generates code from: the schema's
named types and global elements (QNames resolved, so prefixes do not matter; facets, attributes
and declarations as unordered sets; annotations and documentation dropped) and, per operation,
its input, output and fault elements, SOAPAction, style and body use (the names of messages,
parts, port type, binding, service and port do not reach the wire and are dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.jsonschema import DECIMAL_FACETS

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_XS = "http://www.w3.org/2001/XMLSchema"
SOAP_OVER_HTTP = "http://schemas.xmlsoap.org/soap/http"

# Contracts are local files: no DTD, no entities, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

_NUMERIC_FACETS = frozenset({"length", "minLength", "maxLength", *DECIMAL_FACETS})


def _xs(name: str) -> str:
    return f"{{{NS_XS}}}{name}"


def _wsdl(name: str) -> str:
    return f"{{{NS_WSDL}}}{name}"


def _soap(name: str) -> str:
    return f"{{{NS_WSDL_SOAP}}}{name}"


def load(path: Path) -> Any:
    """The root element of a WSDL file."""
    try:
        return etree.parse(str(path), _PARSER).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ConfigurationError(f"contract {path}: {exc}") from None


def served_contract(path: Path, address: str) -> bytes:
    """The contract at `path` with every SOAP 1.1 port's ``soap:address`` set to `address`."""
    definitions = load(path)
    ports = definitions.findall(f"{_wsdl('service')}/{_wsdl('port')}/{_soap('address')}")
    if not ports:
        raise ConfigurationError(f"contract {path}: no SOAP 1.1 port to point at {address}")
    for port in ports:
        port.set("location", address)
    served: bytes = etree.tostring(definitions, xml_declaration=True, encoding="UTF-8")
    return served


# -- canonical form -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CanonicalContract:
    """A WSDL reduced to what a SOAP stack generates code from; equal means equivalent."""

    target_namespace: str
    types: dict[str, Any]  # "{ns}Name" -> canonical simple or complex type
    elements: dict[str, Any]  # "{ns}Name" of global elements a message part refers to -> type
    operations: dict[str, Any]  # operation name -> messages, faults, SOAPAction, style, use
    binding: tuple[str, str]  # (style, transport) of the one SOAP 1.1 binding


def canonical(definitions: Any) -> CanonicalContract:
    tns = definitions.get("targetNamespace") or ""
    types: dict[str, Any] = {}
    elements: dict[str, Any] = {}
    for schema in definitions.iterfind(f"{_wsdl('types')}/{_xs('schema')}"):
        ns = schema.get("targetNamespace") or ""
        for child in schema:
            if not isinstance(child.tag, str):
                continue
            name = f"{{{ns}}}{child.get('name')}"
            if child.tag == _xs("simpleType"):
                types[name] = _simple_type(child)
            elif child.tag == _xs("complexType"):
                types[name] = _complex_type(child)
            elif child.tag == _xs("element"):
                elements[name] = _element_type(child)
    parts = _message_parts(definitions, tns)
    operations, binding = _operations(definitions, tns, parts)
    referenced = {element for element in parts.values()}
    # spyne declares a global element for each complex type; only those a message carries count.
    elements = {name: kind for name, kind in elements.items() if name in referenced}
    missing = referenced - set(elements)
    if missing:
        raise ConfigurationError(f"message parts refer to undeclared elements {sorted(missing)}")
    return CanonicalContract(tns, types, elements, operations, binding)


def _qname(element: Any, value: str | None) -> str | None:
    """A QName attribute value (``tns:Max35Text``) resolved against `element`'s namespaces."""
    if value is None:
        return None
    prefix, _, local = value.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if namespace is None:
        raise ConfigurationError(f"undeclared prefix in QName {value!r}")
    return f"{{{namespace}}}{local}"


def _facet_value(facet: str, value: str) -> str:
    if facet in _NUMERIC_FACETS:
        try:
            return str(Decimal(value).normalize())
        except InvalidOperation:
            return value
    return value


_IGNORED = frozenset({_xs("annotation"), _wsdl("documentation")})


def _children(element: Any) -> list[Any]:
    """Element children that carry meaning (no comments, annotations or documentation)."""
    return [child for child in element if isinstance(child.tag, str) and child.tag not in _IGNORED]


def _simple_type(node: Any) -> Any:
    (restriction,) = _children(node)
    if restriction.tag != _xs("restriction"):
        raise ConfigurationError(f"simpleType {node.get('name')}: only restrictions are compared")
    facets = []
    for facet in _children(restriction):
        name = etree.QName(facet).localname
        facets.append((name, _facet_value(name, facet.get("value"))))
    return ("simple", _qname(restriction, restriction.get("base")), tuple(sorted(facets)))


def _complex_type(node: Any) -> Any:
    content = _children(node)
    attributes = [c for c in content if c.tag == _xs("attribute")]
    particles = [c for c in content if c.tag != _xs("attribute")]
    if particles and particles[0].tag == _xs("simpleContent"):
        (extension,) = _children(particles[0])
        return (
            "simpleContent",
            etree.QName(extension).localname,
            _qname(extension, extension.get("base")),
            _attributes(_children(extension)),
        )
    particle = _particle(particles[0]) if particles else None
    return ("complex", particle, _attributes(attributes))


def _attributes(nodes: list[Any]) -> tuple[Any, ...]:
    return tuple(
        sorted(
            (a.get("name"), _qname(a, a.get("type")), a.get("use", "optional"))
            for a in nodes
            if a.tag == _xs("attribute")
        )
    )


def _occurs(node: Any) -> tuple[str, str]:
    return node.get("minOccurs", "1"), node.get("maxOccurs", "1")


def _particle(node: Any) -> Any:
    kind = etree.QName(node).localname
    if kind == "element":
        nillable = node.get("nillable", "false") in ("true", "1")
        return ("element", node.get("name"), _element_type(node), *_occurs(node), nillable)
    if kind not in ("sequence", "choice", "all"):
        raise ConfigurationError(f"unsupported schema particle {kind}")
    members = tuple(_particle(child) for child in _children(node))
    # A sequence holding one particle, once, is that particle (spyne writes choices that way).
    if kind == "sequence" and len(members) == 1 and _occurs(node) == ("1", "1"):
        return members[0]
    return (kind, *_occurs(node), members)


def _element_type(node: Any) -> Any:
    inline = [c for c in _children(node) if c.tag in (_xs("complexType"), _xs("simpleType"))]
    if inline:
        kind = inline[0]
        return _complex_type(kind) if kind.tag == _xs("complexType") else _simple_type(kind)
    return _qname(node, node.get("type"))


def _message_parts(definitions: Any, tns: str) -> dict[str, str]:
    """Message QName -> the element of its one part (WS-I BP: one part per doc/literal message)."""
    parts: dict[str, str] = {}
    for message in definitions.iterfind(_wsdl("message")):
        found = message.findall(_wsdl("part"))
        if len(found) != 1 or found[0].get("element") is None:
            raise ConfigurationError(f"message {message.get('name')}: expected one element part")
        element = _qname(found[0], found[0].get("element"))
        assert element is not None
        parts[f"{{{tns}}}{message.get('name')}"] = element
    return parts


def _operations(
    definitions: Any, tns: str, parts: dict[str, str]
) -> tuple[dict[str, Any], tuple[str, str]]:
    bindings = [
        b for b in definitions.iterfind(_wsdl("binding")) if b.find(_soap("binding")) is not None
    ]
    if len(bindings) != 1:
        raise ConfigurationError(f"expected one SOAP 1.1 binding, found {len(bindings)}")
    binding = bindings[0]
    soap_binding = binding.find(_soap("binding"))
    style = soap_binding.get("style", "document")
    port_types = {f"{{{tns}}}{p.get('name')}": p for p in definitions.iterfind(_wsdl("portType"))}
    port_type = port_types[_qname(binding, binding.get("type")) or ""]
    operations: dict[str, Any] = {}
    for operation in port_type.iterfind(_wsdl("operation")):
        name = operation.get("name")

        def element(tag: str, node: Any = operation) -> str:
            message = node.find(_wsdl(tag)) if tag in ("input", "output") else node
            return parts[_qname(message, message.get("message")) or ""]

        faults = {f.get("name"): element("fault", f) for f in operation.iterfind(_wsdl("fault"))}
        bound = binding.find(f"{_wsdl('operation')}[@name='{name}']")
        if bound is None:
            raise ConfigurationError(f"operation {name} is not bound")
        soap_operation = bound.find(_soap("operation"))
        operations[name] = {
            "input": element("input"),
            "output": element("output"),
            "faults": faults,
            "soap_action": soap_operation.get("soapAction"),
            "style": soap_operation.get("style", style),
            "input_use": bound.find(f"{_wsdl('input')}/{_soap('body')}").get("use"),
            "output_use": bound.find(f"{_wsdl('output')}/{_soap('body')}").get("use"),
            "fault_uses": {
                f.get("name"): f.find(_soap("fault")).get("use")
                for f in bound.iterfind(_wsdl("fault"))
            },
        }
    return operations, (style, soap_binding.get("transport"))
