"""`load_contract`: one WSDL 1.1 file (and the files it imports) as a checked `Contract`.

Reading is safe (see `bridge.contracts.sources`: no DTD, no entity, no network, nothing outside
the WSDL's folder); the WSDL is read into ports and operations (`bridge.contracts.wsdl`); every
schema is compiled into one validator (`bridge.contracts.schemas`), with the RPC operations'
wrapper elements declared beside them so that an RPC message is validated whole like a
document one (what SOAP encoding brings that a literal message cannot carry is refused
before, by `bridge.contracts.encoding`). Whatever is wrong is a ConfigurationError naming the
file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from bridge.contracts.encoding import ENVELOPES, refuse_encoding_types
from bridge.contracts.model import Body, Contract, Operation, SoapVersion
from bridge.contracts.schemas import (
    SchemaDocument,
    compile_validator,
    schema_documents,
    well_known,
)
from bridge.contracts.sources import XSD, read_sources
from bridge.contracts.wsdl import Definitions
from bridge.domain.errors import ConfigurationError
from bridge.mapping.xsdtree import SchemaSet

_XS = f"{{{XSD}}}"


def load_contract(wsdl: Path, *, name: str, port: str | None = None) -> Contract:
    """The contract of `wsdl`, served through `port` (default: the first SOAP 1.1 port, else
    the first SOAP 1.2 one), or a ConfigurationError saying what is refused and where."""
    sources = read_sources(wsdl)
    documents = schema_documents(sources)
    documents += well_known(documents)
    elements, types = _declared(documents)
    definitions = Definitions(sources)
    ports = definitions.ports()
    chosen = definitions.choose(ports, port)
    operations = definitions.operations(chosen, elements, types)
    refuse_encoding_types(operations, documents)
    wrappers = rpc_wrappers(operations.values(), elements)
    validator = compile_validator([*documents, *wrappers])
    return Contract(
        name=name,
        wsdl=wsdl,
        target_namespace=definitions.target_namespace,
        ports=tuple(ports),
        port=chosen,
        operations=operations,
        schema=SchemaSet([doc.element for doc in documents], validator),
    )


def contract_files(wsdl: Path) -> list[str]:
    """The files of the contract whose main WSDL is `wsdl`, relative to its folder (POSIX),
    the main one first: what an import copies."""
    return [source.relative for source in read_sources(wsdl).files]


def _declared(documents: list[SchemaDocument]) -> tuple[set[str], set[str]]:
    """The Clark names of the global elements and named types the schemas declare."""
    elements: set[str] = set()
    types: set[str] = set()
    for doc in documents:
        prefix = f"{{{doc.target_namespace}}}" if doc.target_namespace else ""
        for child in doc.element:
            name = child.get("name") if isinstance(child.tag, str) else None
            if name is None:
                continue
            if child.tag == f"{_XS}element":
                elements.add(prefix + name)
            elif child.tag in (f"{_XS}complexType", f"{_XS}simpleType"):
                types.add(prefix + name)
    return elements, types


def rpc_wrappers(operations: Iterable[Operation], elements: set[str]) -> list[SchemaDocument]:
    """Generated schemas declaring each RPC body's wrapper element (`{namespace}Operation`
    with the parts as unqualified children), one per namespace, for the validator only. An
    encoded body's wrapper also takes the envelope's attributes (`encodingStyle`)."""
    bodies: dict[str | None, dict[str, tuple[Body, SoapVersion]]] = {}
    for operation in operations:
        if operation.style != "rpc":
            continue
        for body in (operation.input, operation.output):
            if body is None:
                continue
            if body.element in elements:
                raise ConfigurationError(
                    f"operation {operation.name}: its RPC wrapper {body.element} is also a "
                    "global element of the schema; the two cannot be told apart"
                )
            qname = etree.QName(body.element)
            bodies.setdefault(qname.namespace, {})[qname.localname] = (
                body,
                operation.soap_version,
            )
    return [_wrapper_schema(namespace, named) for namespace, named in bodies.items()]


def _wrapper_schema(
    namespace: str | None, bodies: dict[str, tuple[Body, SoapVersion]]
) -> SchemaDocument:
    referenced = {
        etree.QName(clark).namespace
        for body, _ in bodies.values()
        for part in body.parts
        for clark in (part.element, part.type)
        if clark is not None
    }
    prefixes = {ns: f"p{index}" for index, ns in enumerate(sorted(n for n in referenced if n))}
    schema = etree.Element(f"{_XS}schema", nsmap={"xs": XSD, **{p: n for n, p in prefixes.items()}})
    if namespace is not None:
        schema.set("targetNamespace", namespace)
    for imported in sorted(referenced - {namespace, XSD}, key=lambda n: n or ""):
        node = etree.SubElement(schema, f"{_XS}import")
        if imported is not None:
            node.set("namespace", imported)
    for local, (body, version) in bodies.items():
        element = etree.SubElement(schema, f"{_XS}element", name=local)
        complex_type = etree.SubElement(element, f"{_XS}complexType")
        sequence = etree.SubElement(complex_type, f"{_XS}sequence")
        for part in body.parts:
            if part.element is not None:
                etree.SubElement(sequence, f"{_XS}element", ref=_prefixed(part.element, prefixes))
            else:
                assert part.type is not None
                etree.SubElement(
                    sequence, f"{_XS}element", name=part.name, type=_prefixed(part.type, prefixes)
                )
        if body.use == "encoded":
            etree.SubElement(
                complex_type,
                f"{_XS}anyAttribute",
                namespace=ENVELOPES[version],
                processContents="skip",
            )
    return SchemaDocument(schema, None, namespace)


def _prefixed(clark: str, prefixes: dict[str, str]) -> str:
    qname = etree.QName(clark)
    return f"{prefixes[qname.namespace]}:{qname.localname}" if qname.namespace else qname.localname
