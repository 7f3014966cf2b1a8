"""SOAP encoding (SOAP 1.1 section 5) as the bridge serves it, and what it refuses at import.

Legacy services (Axis 1, .NET remoting, PHP's SoapServer) publish RPC/encoded contracts. When
the parts are of plain XML Schema types, such a message is an RPC/literal one with a few
attributes more: `encodingStyle` on the wrapper `{soap:body namespace}Operation` and `xsi:type`
on each part. The bridge serves those: `bridge.contracts.messages.encode_for_wire` adds the
attributes to what the codec writes, `decode_from_wire` takes them off what arrives, and the
validator and the codecs see a literal message.

What does not map to a literal message is refused when the contract is imported, naming the
operation, the part and the schema line: a part whose type is or uses a type of the SOAP
encoding namespace (`soapenc:Array` with its `wsdl:arrayType`, `soapenc:Struct`, and the
encoding's own simple types such as `soapenc:string`, whose values may be multi-reference).
Multi-reference values (`href`/`id`) only show on the wire: `decode_from_wire` refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from bridge.contracts.model import Operation, SoapVersion
from bridge.contracts.schemas import SchemaDocument
from bridge.contracts.sources import XSD
from bridge.domain.errors import ConfigurationError

ENVELOPES: dict[SoapVersion, str] = {
    "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
    "1.2": "http://www.w3.org/2003/05/soap-envelope",
}
ENCODINGS: dict[SoapVersion, str] = {
    "1.1": "http://schemas.xmlsoap.org/soap/encoding/",
    "1.2": "http://www.w3.org/2003/05/soap-encoding",
}
ENCODING_NAMESPACES = frozenset(ENCODINGS.values())
XSI = "http://www.w3.org/2001/XMLSchema-instance"

_XS = f"{{{XSD}}}"
# Global schema components, by the kind of name a reference to them is.
_COMPONENTS = {
    "complexType": "type",
    "simpleType": "type",
    "element": "element",
    "attribute": "attribute",
    "group": "group",
    "attributeGroup": "attributeGroup",
}
# Attributes of schema elements that name other components (QNames), and the kind they name.
_NAMING = {"type": "type", "base": "type", "itemType": "type", "substitutionGroup": "element"}


@dataclass(frozen=True)
class _Use:
    """Where a schema names a component of the SOAP encoding namespace."""

    node: Any
    document: SchemaDocument
    name: str  # the Clark name it names

    def refusal(self, what: str) -> ConfigurationError:
        shown = f"soapenc:{etree.QName(self.name).localname}"
        why = (
            f"{what} uses {shown}, a type of SOAP encoding: its arrays, structs and "
            "multi-reference values are not supported; declare it with plain XML Schema "
            "types (a sequence of elements, maxOccurs for a repetition)"
        )
        if self.document.source is None:
            return ConfigurationError(why)
        return self.document.source.at(self.node, why)


def refuse_encoding_types(
    operations: Mapping[str, Operation], documents: Sequence[SchemaDocument]
) -> None:
    """Refuse, before the schemas are compiled, what the bridge cannot serve of SOAP encoding:
    an encoded body's part whose type uses the encoding's types (the message names the
    operation and the part), then any use of them when no document of the contract declares
    that namespace (libxml2 would only say that a type does not resolve)."""
    components: _Components | None = None
    for operation in operations.values():
        for direction, body in (("input", operation.input), ("output", operation.output)):
            if body is None or body.use != "encoded":
                continue
            components = components or _Components(documents)
            for part in body.parts:
                if part.type is None:
                    continue
                found = components.first_use("type", part.type)
                if found is not None:
                    raise found.refusal(
                        f"operation {operation.name}: the {direction} part {part.name} "
                        f"(of type {part.type})"
                    )
    declared = {doc.target_namespace for doc in documents}
    if ENCODING_NAMESPACES & declared:
        return
    for doc in documents:
        if not _binds_encoding(doc):
            continue  # the cheap test: no name in it can be of the encoding's namespace
        for component in doc.element:
            if not isinstance(component.tag, str):
                continue
            found = next(_uses_in(component, doc), None)
            if found is not None:
                kind = etree.QName(component).localname
                raise found.refusal(f"the {kind} {component.get('name')}")


def _binds_encoding(doc: SchemaDocument) -> bool:
    return any(
        isinstance(node.tag, str) and not ENCODING_NAMESPACES.isdisjoint(node.nsmap.values())
        for node in doc.element.iter()
    )


class _Components:
    """The contract's named schema components, to follow references from one to the next."""

    def __init__(self, documents: Iterable[SchemaDocument]) -> None:
        self._index: dict[tuple[str, str], tuple[Any, SchemaDocument]] = {}
        for doc in documents:
            prefix = f"{{{doc.target_namespace}}}" if doc.target_namespace else ""
            for child in doc.element:
                if not isinstance(child.tag, str) or not child.tag.startswith(_XS):
                    continue
                kind = _COMPONENTS.get(child.tag[len(_XS) :])
                name = child.get("name")
                if kind is not None and name is not None:
                    self._index[(kind, prefix + name)] = (child, doc)

    def first_use(self, kind: str, name: str) -> _Use | None:
        """The first use of the encoding's namespace reachable from the component named."""
        pending = [(kind, name)]
        seen: set[tuple[str, str]] = set()
        while pending:
            key = pending.pop()
            if key in seen or key not in self._index:
                continue
            seen.add(key)
            node, doc = self._index[key]
            for use in _uses_in(node, doc, pending):
                return use
        return None


def _uses_in(
    component: Any, doc: SchemaDocument, pending: list[tuple[str, str]] | None = None
) -> Iterator[_Use]:
    """Uses of the encoding's namespace inside `component`; each other component it names is
    added to `pending` (when given) to be looked into next."""
    for node in component.iter(f"{_XS}*"):
        for kind, name in _names(node):
            if etree.QName(name).namespace in ENCODING_NAMESPACES:
                yield _Use(node, doc, name)
            elif pending is not None:
                pending.append((kind, name))


def _names(node: Any) -> Iterator[tuple[str, str]]:
    """The components an XSD element names, as (kind, Clark name)."""
    local = etree.QName(node).localname
    for attribute, kind in _NAMING.items():
        value = node.get(attribute)
        if value:
            yield kind, _resolve(node, value)
    ref = node.get("ref")
    if ref and local in _COMPONENTS:
        yield _COMPONENTS[local], _resolve(node, ref)
    for member in (node.get("memberTypes") or "").split():
        yield "type", _resolve(node, member)


def _resolve(node: Any, value: str) -> str:
    """A QName attribute value as a Clark name, by the namespaces in scope at `node` (an
    undeclared prefix is left for libxml2 to report, as no namespace)."""
    prefix, _, local = value.strip().rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    return f"{{{namespace}}}{local}" if namespace else local
