"""The element a message's SOAP Body carries, as a tree the codecs, samples and diff read; and
for an RPC/encoded body, the step between that literal element and the wire.

An encoded message is a literal one with the SOAP encoding's attributes (see
`bridge.contracts.encoding`): `encode_for_wire` adds them to what the codec wrote (after it was
validated), `decode_from_wire` takes them off what arrived (before it is validated and read).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from lxml import etree

from bridge.contracts.encoding import ENCODING_NAMESPACES, ENCODINGS, ENVELOPES, XSI
from bridge.contracts.model import Body, Contract, Operation
from bridge.contracts.sources import XSD
from bridge.domain.errors import MappingError
from bridge.mapping.xsdtree import ComplexType, Element, Group, Wildcard

# The XML Schema instance namespace of 1999, which SOAP 1.1 toolkits of that time still send.
XSI_1999 = "http://www.w3.org/1999/XMLSchema-instance"
# Prefixes readers of encoded messages expect (some legacy servers compare them as text).
_CONVENTIONAL = {XSI: "xsi", XSD: "xsd", ENVELOPES["1.1"]: "soapenv", ENVELOPES["1.2"]: "env"}
# Attributes the encoding puts on values, which a literal reading does not expect.
_DROPPED = frozenset(
    {
        f"{{{XSI}}}type",
        f"{{{XSI_1999}}}type",
        *(f"{{{envelope}}}encodingStyle" for envelope in ENVELOPES.values()),
    }
)
# A reference to a value written elsewhere: `href="#id"` (SOAP 1.1), `enc:ref` (SOAP 1.2).
_REFERENCES = ("href", f"{{{ENCODINGS['1.2']}}}ref")


def body_element(contract: Contract, body: Body) -> Element:
    """The global element of a document-style body; for an RPC body, a wrapper element
    `{namespace}Operation` (or `...Response`) whose content is the parts in order: a part
    declared by type as an unqualified child of that type, one declared by element as that
    element (WSDL 1.1, section 3.5)."""
    if len(body.parts) == 1 and body.parts[0].element == body.element:
        return contract.schema.element(body.element)
    children: list[Element | Group | Wildcard] = []
    for part in body.parts:
        if part.element is not None:
            children.append(contract.schema.element(part.element))
        else:
            assert part.type is not None
            children.append(Element(part.name, None, contract.schema.type(part.type)))
    qname = etree.QName(body.element)
    content = ComplexType(None, content=Group("sequence", children))
    return Element(qname.localname, qname.namespace, content)


def encode_for_wire(operation: Operation, body: Body, element: etree._Element) -> etree._Element:
    """The Body child to send for `body` (`operation.input` or `.output`), from the literal
    `element` the codec wrote: for an encoded body, a copy whose wrapper carries
    `encodingStyle` (SOAP 1.1 or 1.2 encoding, by the operation's SOAP version) and whose
    part elements carry `xsi:type` naming their declared type, with the namespace
    declarations those values need; a literal body's element is returned as it is."""
    if body.use != "encoded":
        return element
    envelope = ENVELOPES[operation.soap_version]
    types = {part.name: part.type for part in body.parts if part.type is not None}
    parts = [child for child in element if isinstance(child.tag, str) and child.tag in types]
    wanted = [XSI, envelope, *(etree.QName(clark).namespace for clark in types.values())]
    prefixes = _prefixes(element, parts, wanted)
    # Prefixed declarations only: the wrapper's tag is a Clark name, lxml names its prefix.
    nsmap = {prefix: uri for prefix, uri in element.nsmap.items() if prefix}
    nsmap.update((prefix, namespace) for namespace, prefix in prefixes.items())
    attrib = {str(name): str(value) for name, value in element.attrib.items()}
    wrapper = etree.Element(element.tag, attrib=attrib, nsmap=nsmap)
    wrapper.text = element.text
    for child in element:
        wrapper.append(copy.deepcopy(child))
    wrapper.set(f"{{{envelope}}}encodingStyle", ENCODINGS[operation.soap_version])
    for child in wrapper:
        clark = types.get(child.tag) if isinstance(child.tag, str) else None
        if clark is not None:
            qname = etree.QName(clark)
            if qname.namespace is None:
                child.set(f"{{{XSI}}}type", qname.localname)
            else:
                child.set(f"{{{XSI}}}type", f"{prefixes[qname.namespace]}:{qname.localname}")
    return wrapper


def decode_from_wire(element: etree._Element) -> etree._Element:
    """A copy of an encoded Body child as the literal message it stands for: without the
    `xsi:type`, `encodingStyle` and encoding-namespace attributes the encoding adds (an
    `xsi:null` of 1999 becomes `xsi:nil`). A multi-reference value (`href="#id"`, SOAP 1.2's
    `enc:ref`) is refused with a MappingError naming the element's path: the bridge reads
    values written in place only. Only for bodies whose `use` is "encoded": in a literal
    message `xsi:type` may be meaningful (a derived type) and is left to the validator."""
    decoded = copy.deepcopy(element)
    for node in decoded.iter():
        if not isinstance(node.tag, str):
            continue
        for name, value in [(str(name), str(value)) for name, value in node.attrib.items()]:
            namespace = etree.QName(name).namespace
            if name in _REFERENCES and (value.startswith("#") or namespace is not None):
                raise MappingError(
                    _path(node),
                    "a value written in place (SOAP-encoded multi-reference values, "
                    "href/id, are not supported)",
                    value,
                )
            if name == f"{{{XSI_1999}}}null":
                del node.attrib[name]
                if value.strip() in ("1", "true"):
                    node.set(f"{{{XSI}}}nil", "true")
            elif name in _DROPPED or namespace in ENCODING_NAMESPACES:
                del node.attrib[name]
    return decoded


def _prefixes(
    element: etree._Element, parts: list[etree._Element], namespaces: Iterable[str | None]
) -> dict[str, str]:
    """A prefix for each namespace, bound on the wrapper and seen unchanged by every part
    element: one the wrapper already binds, else a new one no element of the tree uses."""
    used = {
        prefix
        for node in element.iter()
        if isinstance(node.tag, str)
        for prefix in node.nsmap
        if prefix is not None
    }
    chosen: dict[str, str] = {}
    for namespace in namespaces:
        if namespace is None or namespace in chosen:
            continue
        bound = [
            prefix
            for prefix, uri in element.nsmap.items()
            if uri == namespace and prefix is not None
            if all(part.nsmap.get(prefix) == namespace for part in parts)
        ]
        if bound:
            chosen[namespace] = bound[0]
            continue
        prefix = _CONVENTIONAL.get(namespace, "ns")
        candidate, index = prefix, 0
        while candidate in used:
            index += 1
            candidate = f"{prefix}{index}"
        used.add(candidate)
        chosen[namespace] = candidate
    return chosen


def _path(node: etree._Element) -> str:
    names = [etree.QName(node).localname]
    for ancestor in node.iterancestors():
        names.append(etree.QName(ancestor).localname)
    return "/".join(reversed(names))
