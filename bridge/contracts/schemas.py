"""A contract's XML Schemas: every `xsd:schema` it holds, and one validator compiled from all.

A WSDL may carry several inline schemas, import schema files that include others, and split
one namespace over several documents. libxml2 compiles one schema from one document and loads
each namespace once, so the validator is compiled from a small generated wrapper: it imports
one generated "hub" per namespace, and each hub includes every document of that namespace.
The documents are handed to libxml2 from memory through a resolver, with their own
`schemaLocation`s taken out (the wrapper already brings in every namespace), so nothing is read
from disk or network at this point.

A schema libxml2 refuses is reported with the file and line of the original document (the
copies handed to libxml2 are serialised, so their lines are mapped back element by element).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from bridge.contracts.sources import XSD, SourceFile, Sources, refusal, schemas_of
from bridge.domain.errors import ConfigurationError
from bridge.mapping.validation import ContractSchema

_BASE = "/bridge-contract/"
_XS = f"{{{XSD}}}"
_CLARK = re.compile(r"\{([^{}]*)\}")
_PREFIXES = {XSD: "xs", "http://schemas.xmlsoap.org/wsdl/": "wsdl"}
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
# The attributes of the xml: namespace, as the W3C's xml.xsd declares them.
_XML_SCHEMA = f"""<xs:schema xmlns:xs="{XSD}" targetNamespace="{XML_NAMESPACE}">
  <xs:attribute name="lang">
    <xs:simpleType>
      <xs:union memberTypes="xs:language">
        <xs:simpleType>
          <xs:restriction base="xs:string"><xs:enumeration value=""/></xs:restriction>
        </xs:simpleType>
      </xs:union>
    </xs:simpleType>
  </xs:attribute>
  <xs:attribute name="space">
    <xs:simpleType>
      <xs:restriction base="xs:NCName">
        <xs:enumeration value="default"/><xs:enumeration value="preserve"/>
      </xs:restriction>
    </xs:simpleType>
  </xs:attribute>
  <xs:attribute name="base" type="xs:anyURI"/>
  <xs:attribute name="id" type="xs:ID"/>
  <xs:attributeGroup name="specialAttrs">
    <xs:attribute ref="xml:base"/><xs:attribute ref="xml:lang"/>
    <xs:attribute ref="xml:space"/><xs:attribute ref="xml:id"/>
  </xs:attributeGroup>
</xs:schema>"""


@dataclass(frozen=True, eq=False)
class SchemaDocument:
    """One `xsd:schema` of the contract, as its own element carrying every namespace
    declaration in scope where it was written (QName values such as `type="tns:X"` need them).
    `source` is None for a schema the bridge wrote (RPC wrappers, the `xml:` namespace)."""

    element: Any
    source: SourceFile | None
    target_namespace: str | None


def schema_documents(sources: Sources) -> list[SchemaDocument]:
    """Every schema of the contract, in reading order."""
    return [
        _standalone(schema, source) for source in sources.files for schema in schemas_of(source)
    ]


def well_known(documents: Sequence[SchemaDocument]) -> list[SchemaDocument]:
    """The schema of the `xml:` namespace when a document imports it without providing it:
    `xml:lang` and its kin are used by real contracts, whose remote location for it
    (www.w3.org/2001/xml.xsd) is never read (`bridge.contracts.sources.WELL_KNOWN`)."""
    provided = {doc.target_namespace for doc in documents}
    imported = {
        node.get("namespace") for doc in documents for node in doc.element.iterfind(f"{_XS}import")
    }
    if XML_NAMESPACE in imported and XML_NAMESPACE not in provided:
        return [SchemaDocument(etree.fromstring(_XML_SCHEMA), None, XML_NAMESPACE)]
    return []


def _standalone(schema: Any, source: SourceFile) -> SchemaDocument:
    if source.kind == "xsd":
        element = schema
    else:
        # A copy of the inline schema as its own root, the WSDL's declarations in scope on it.
        element = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
        element.text = schema.text
        for child in schema:
            element.append(copy.deepcopy(child))
        element.sourceline = schema.sourceline
    return SchemaDocument(element, source, schema.get("targetNamespace"))


def compile_validator(documents: Sequence[SchemaDocument]) -> ContractSchema:
    """One validator of every document, or a ConfigurationError naming file, line and element."""
    served: dict[str, bytes] = {"empty.xsd": etree.tostring(etree.Element(f"{_XS}schema"))}
    copies: dict[str, tuple[Any, SchemaDocument]] = {}
    hubs: dict[str | None, list[str]] = {}
    for index, doc in enumerate(documents):
        name = f"doc{index}.xsd"
        handed = _for_libxml2(doc.element)
        served[name] = etree.tostring(handed)
        copies[name] = (handed, doc)
        hubs.setdefault(doc.target_namespace, []).append(name)
    wrapper = etree.Element(f"{_XS}schema", nsmap={"xs": XSD})
    for index, (namespace, names) in enumerate(hubs.items()):
        hub = etree.Element(f"{_XS}schema", nsmap={"xs": XSD})
        if namespace is not None:
            hub.set("targetNamespace", namespace)
        for name in names:
            etree.SubElement(hub, f"{_XS}include", schemaLocation=name)
        served[f"hub{index}.xsd"] = etree.tostring(hub)
        imported = etree.SubElement(wrapper, f"{_XS}import", schemaLocation=f"hub{index}.xsd")
        if namespace is not None:
            imported.set("namespace", namespace)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_Memory(served))
    root = etree.fromstring(etree.tostring(wrapper), parser, base_url=f"{_BASE}wrapper.xsd")
    try:
        return ContractSchema(etree.XMLSchema(root), lambda: etree.XMLSchema(root))
    except etree.XMLSchemaParseError as exc:
        raise _located(exc, served, copies) from None


def _for_libxml2(element: Any) -> Any:
    """A copy without the locations libxml2 would follow (the wrapper brings every namespace)."""
    handed = copy.deepcopy(element)
    for node in list(handed):
        if node.tag == f"{_XS}include":
            handed.remove(node)
        elif node.tag == f"{_XS}import":
            node.attrib.pop("schemaLocation", None)
    return handed


class _Memory(etree.Resolver):
    """Serves the generated wrapper's documents from memory; nothing else is ever read."""

    def __init__(self, served: dict[str, bytes]) -> None:
        super().__init__()
        self._served = served

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        name = (system_url or "").rpartition("/")[2]
        if not (system_url or "").startswith(_BASE) or name not in self._served:
            name = "empty.xsd"  # never asked for: every location was taken out or generated
        return self.resolve_string(self._served[name], context, base_url=system_url)


def _located(
    exc: etree.XMLSchemaParseError,
    served: dict[str, bytes],
    copies: dict[str, tuple[Any, SchemaDocument]],
) -> ConfigurationError:
    errors = [entry for entry in exc.error_log if entry.level_name in ("ERROR", "FATAL")]
    entry = errors[0] if errors else None
    if entry is None:
        return ConfigurationError(f"the contract's XML Schema is invalid: {exc}")
    message = _readable(entry.message)
    name = (entry.filename or "").rpartition("/")[2]
    if name not in copies:
        return ConfigurationError(f"the contract's XML Schema is invalid: {message}")
    handed, doc = copies[name]
    line = _original_line(served[name], handed, entry.line)
    where = doc.source.path if doc.source is not None else "a schema the bridge generated"
    return refusal(where, line, f"invalid XML Schema: {message}")


def _original_line(data: bytes, handed: Any, line: int) -> int | None:
    """The original line of the element at `line` of the serialised copy: the two trees have
    the same shape, and the copy kept each element's `sourceline`."""
    reparsed = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    for again, kept in zip(reparsed.iter(), handed.iter(), strict=False):
        if again.sourceline is not None and again.sourceline >= line:
            return int(kept.sourceline) if kept.sourceline else None
    return None


def _readable(message: str) -> str:
    """libxml2's message with Clark names written as prefixed names (xs:element)."""

    def prefixed(match: re.Match[str]) -> str:
        prefix = _PREFIXES.get(match[1])
        return f"{prefix}:" if prefix else match[0]

    return _CLARK.sub(prefixed, message).rstrip(".")
