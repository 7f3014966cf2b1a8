"""WSDL 1.1 definitions read into the bridge's contract model: ports, and for one binding each
operation's style, SOAP version, SOAPAction, body, headers and faults.

What the bridge serves, and refuses with a message naming the operation, file and line:
- SOAP 1.1 (`soap:binding`) and SOAP 1.2 (`soap12:binding`) bindings; other bindings (HTTP
  GET/POST, which .NET publishes beside SOAP) are left out of the ports.
- document and rpc style, per binding, overridable per operation; `use="literal"`, and for
  rpc style also `use="encoded"` (SOAP encoding, as Axis 1, .NET remoting and PHP's SoapServer
  publish it) where its messages map like literal ones: parts declared by type, of plain XML
  Schema types (`bridge.contracts.encoding` refuses the encoding's arrays, structs and
  multi-reference values). Document/encoded, and encoded headers and faults, are refused.
- document style: one body part, declared by `element`. A message of several body parts has no
  single element to validate or map to one JSON object, so it is refused.
- rpc style: the parts become the children of `{soap:body namespace}Operation` (and
  `...Response`), unqualified, as the WSDL 1.1 and WS-I rules say.
- request-response and one-way operations; notifications and solicit-response are refused.
A missing soapAction is `""`, as is `soapAction=""`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from bridge.contracts.encoding import ENCODING_NAMESPACES, ENCODINGS
from bridge.contracts.model import Body, Fault, Operation, Part, Port, SoapVersion, Use
from bridge.contracts.sources import WSDL, XSD, SourceFile, Sources
from bridge.domain.errors import ConfigurationError
from bridge.mapping.xsdtree import BUILTINS

SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
VERSIONS: dict[str, SoapVersion] = {SOAP11: "1.1", SOAP12: "1.2"}
_W = f"{{{WSDL}}}"
_STYLES = ("document", "rpc")
# Built-in types of XSD besides the simple ones xsdtree.BUILTINS lists.
_OTHER_BUILTINS = frozenset({"anyType", "NMTOKENS", "IDREFS", "ENTITIES"})


@dataclass(frozen=True, eq=False)
class _Declared:
    """A named WSDL component and where it was written (for messages naming file and line)."""

    node: Any
    source: SourceFile

    def refuse(self, what: str, node: Any = None) -> ConfigurationError:
        return self.source.at(self.node if node is None else node, what)

    def qname(self, value: str | None, node: Any = None) -> str:
        return qname(self.source, self.node if node is None else node, value)


def qname(source: SourceFile, node: Any, value: str | None) -> str:
    """The Clark name of a QName attribute value, by the namespaces in scope at `node`."""
    if not value:
        raise source.at(node, f"{etree.QName(node).localname} lacks a required QName attribute")
    prefix, _, local = value.strip().rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    if prefix and namespace is None:
        raise source.at(node, f"the prefix {prefix!r} of {value!r} is not declared")
    return f"{{{namespace}}}{local}" if namespace else local


class Definitions:
    """The messages, port types, bindings and services of every WSDL file of a contract."""

    def __init__(self, sources: Sources) -> None:
        self.main = sources.main.path
        self.target_namespace = str(sources.main.root.get("targetNamespace", ""))
        self.messages: dict[str, _Declared] = {}
        self.port_types: dict[str, _Declared] = {}
        self.bindings: dict[str, _Declared] = {}
        self.services: list[_Declared] = []
        for source in sources.wsdls():
            namespace = source.root.get("targetNamespace")
            for kind, table in (
                ("message", self.messages),
                ("portType", self.port_types),
                ("binding", self.bindings),
            ):
                for node in source.root.iterfind(f"{_W}{kind}"):
                    name = node.get("name", "")
                    table[f"{{{namespace}}}{name}" if namespace else name] = _Declared(node, source)
            self.services += [_Declared(n, source) for n in source.root.iterfind(f"{_W}service")]

    def ports(self) -> list[Port]:
        """Every SOAP port of every service; a binding no service names gets a port of its
        own (named like the binding, without address) so that it can still be served."""
        ports = []
        bound = set()
        for service in self.services:
            for node in service.node.iterfind(f"{_W}port"):
                binding = service.qname(node.get("binding"), node)
                if binding not in self.bindings:
                    raise service.refuse(f"port {node.get('name')} names no binding", node)
                version = _soap_version(self.bindings[binding].node)
                if version is None:
                    continue
                bound.add(binding)
                address = node.find(f"{{{_namespace_of(version)}}}address")
                ports.append(
                    Port(
                        service=str(service.node.get("name", "")),
                        name=str(node.get("name", "")),
                        binding=binding,
                        soap_version=version,
                        address="" if address is None else str(address.get("location", "")),
                    )
                )
        for clark, declared in self.bindings.items():
            version = _soap_version(declared.node)
            if version is not None and clark not in bound:
                name = str(declared.node.get("name", ""))
                ports.append(Port("", name, clark, version, ""))
        return ports

    def choose(self, ports: list[Port], wanted: str | None) -> Port:
        """The port named `wanted`, else the first SOAP 1.1 port, else the first SOAP 1.2 one."""
        if not ports:
            raise ConfigurationError(
                f"{self.main}: no SOAP 1.1 or SOAP 1.2 binding; nothing to serve"
            )
        if wanted is not None:
            for port in ports:
                if port.name == wanted:
                    return port
            names = ", ".join(port.name for port in ports)
            raise ConfigurationError(f"{self.main}: no SOAP port {wanted!r}; ports: {names}")
        return next((port for port in ports if port.soap_version == "1.1"), ports[0])

    def operations(self, port: Port, elements: set[str], types: set[str]) -> dict[str, Operation]:
        """The operations of the port's binding, each checked against the declared schema
        `elements` and `types` (Clark names)."""
        binding = self.bindings[port.binding]
        namespace = _namespace_of(port.soap_version)
        soap_binding = binding.node.find(f"{{{namespace}}}binding")
        default_style = soap_binding.get("style") or "document"
        port_type = self.port_types.get(binding.qname(binding.node.get("type")))
        if port_type is None:
            raise binding.refuse(f"binding {binding.node.get('name')} names no portType")
        abstract = {node.get("name"): node for node in port_type.node.iterfind(f"{_W}operation")}
        operations: dict[str, Operation] = {}
        for node in binding.node.iterfind(f"{_W}operation"):
            name = str(node.get("name", ""))
            if name in operations:
                raise binding.refuse(f"operation {name} is bound twice (overloading)", node)
            if name not in abstract:
                raise binding.refuse(f"operation {name} is not in the portType", node)
            reader = _OperationReader(self, binding, port_type, node, abstract[name], port)
            operations[name] = reader.read(default_style, elements, types)
        if not operations:
            raise binding.refuse(f"binding {binding.node.get('name')} has no operation")
        return operations


class _OperationReader:
    """One bound operation: the binding's `node`, the portType's `abstract` operation."""

    def __init__(
        self,
        definitions: Definitions,
        binding: _Declared,
        port_type: _Declared,
        node: Any,
        abstract: Any,
        port: Port,
    ) -> None:
        self.definitions = definitions
        self.binding = binding
        self.port_type = port_type
        self.node = node
        self.abstract = abstract
        self.name = str(node.get("name"))
        self.version = port.soap_version
        self.soap = _namespace_of(port.soap_version)

    def refuse(self, what: str, node: Any = None) -> ConfigurationError:
        return self.binding.refuse(
            f"operation {self.name}: {what}", self.node if node is None else node
        )

    def read(self, default_style: str, elements: set[str], types: set[str]) -> Operation:
        soap_operation = self.node.find(f"{{{self.soap}}}operation")
        style = default_style
        action = ""
        if soap_operation is not None:
            style = soap_operation.get("style") or default_style
            action = str(soap_operation.get("soapAction", ""))
        if style not in _STYLES:
            raise self.refuse(f"style {style!r} is neither document nor rpc")
        children = [child for child in self.abstract if child.tag in (f"{_W}input", f"{_W}output")]
        if not children or children[0].tag != f"{_W}input":
            raise self.refuse("notification and solicit-response operations are not supported")
        input_body, headers = self._body("input", style, None, elements, types)
        output_body = None
        if self.abstract.find(f"{_W}output") is not None:
            output_body, _ = self._body("output", style, input_body, elements, types)
        return Operation(
            name=self.name,
            style="rpc" if style == "rpc" else "document",
            soap_version=self.version,
            soap_action=action,
            input=input_body,
            output=output_body,
            faults=tuple(self._faults(elements)),
            headers=headers,
            documentation=" ".join((self.abstract.findtext(f"{_W}documentation") or "").split()),
        )

    def _message(self, direction: str) -> tuple[_Declared, list[Part]]:
        abstract = self.abstract.find(f"{_W}{direction}")
        clark = self.port_type.qname(abstract.get("message"), abstract)
        message = self.definitions.messages.get(clark)
        if message is None:
            raise self.port_type.refuse(
                f"operation {self.name}: its {direction} names no message ({clark})", abstract
            )
        return message, list(_parts(message))

    def _body(
        self,
        direction: str,
        style: str,
        request: Body | None,
        elements: set[str],
        types: set[str],
    ) -> tuple[Body, tuple[str, ...]]:
        message, parts = self._message(direction)
        bound = self.node.find(f"{_W}{direction}")
        soap_body = None if bound is None else bound.find(f"{{{self.soap}}}body")
        if soap_body is None:
            raise self.refuse(f"its {direction} has no soap:body")
        use = self._use(soap_body, direction, style)
        in_headers, headers = self._headers(bound, message, direction)
        named = soap_body.get("parts")
        if named is not None:
            by_name = {part.name: part for part in parts}
            missing = [name for name in named.split() if name not in by_name]
            if missing:
                raise self.refuse(f"soap:body names parts {missing} its message lacks", soap_body)
            parts = [by_name[name] for name in named.split()]
        else:
            parts = [part for part in parts if part.name not in in_headers]
        for part in parts:
            if use == "encoded":
                _check_encoded_part(message, part, self.name)
            _check_part(message, part, style, elements, types, self.name)
        if style == "rpc":
            namespace = soap_body.get("namespace") or self.definitions.target_namespace
            local = self.name if direction == "input" else f"{self.name}Response"
            element = f"{{{namespace}}}{local}" if namespace else local
            return Body(element, tuple(parts), wrapped=True, use=use), headers
        if len(parts) != 1:
            found = "no body part" if not parts else f"{len(parts)} body parts"
            raise self.refuse(
                f"its {direction} message {message.node.get('name')} has {found}; in document "
                "style the bridge serves messages of exactly one part (one element)",
                message.node,
            )
        (part,) = parts
        assert part.element is not None
        if request is None:
            wrapped = etree.QName(part.element).localname == self.name
        else:
            wrapped = request.wrapped
        return Body(part.element, (part,), wrapped=wrapped), headers

    def _use(self, node: Any, what: str, style: str) -> Use:
        """The body's `use`: "literal", or "encoded" in rpc style with the SOAP encoding of
        the binding's SOAP version (assumed when `encodingStyle` is left out)."""
        use = node.get("use", "literal")
        if use == "literal":
            return "literal"
        if use != "encoded":
            raise self.refuse(f'its {what} is use="{use}", neither literal nor encoded', node)
        if style != "rpc":
            raise self.refuse(
                f'its {what} is use="encoded" in document style, which is not supported; '
                "SOAP encoding is served in rpc style only",
                node,
            )
        expected = ENCODINGS[self.version]
        styles = (node.get("encodingStyle") or expected).split()
        if styles[0] != expected:
            raise self.refuse(
                f"its {what} has encodingStyle {styles[0]!r}; a SOAP {self.version} binding "
                f"is served in the encoding {expected} only",
                node,
            )
        return "encoded"

    def _literal(self, node: Any, what: str) -> None:
        if node.get("use", "literal") != "literal":
            raise self.refuse(
                f'its {what} is use="{node.get("use")}" (SOAP encoding), which is not '
                "supported; headers and faults are served literal only",
                node,
            )

    def _headers(
        self, bound: Any, message: _Declared, direction: str
    ) -> tuple[set[str], tuple[str, ...]]:
        """The part names of the body's message taken by soap:headers, and (for the input)
        the header elements declared."""
        in_message: set[str] = set()
        elements = []
        for header in bound.iterfind(f"{{{self.soap}}}header"):
            self._literal(header, f"{direction} header")
            clark = self.binding.qname(header.get("message"), header)
            declared = self.definitions.messages.get(clark)
            if declared is None:
                raise self.refuse(f"a header names no message ({clark})", header)
            part_name = header.get("part")
            part = next((p for p in _parts(declared) if p.name == part_name), None)
            if part is None:
                raise self.refuse(f"a header names no part {part_name!r} of {clark}", header)
            if declared is message:
                in_message.add(part.name)
            if direction == "input":
                if part.element is None:
                    raise self.refuse(
                        f"header part {part.name} is declared by type; headers need an element",
                        header,
                    )
                elements.append(part.element)
        return in_message, tuple(elements)

    def _faults(self, elements: set[str]) -> Iterator[Fault]:
        bound = {node.get("name"): node for node in self.node.iterfind(f"{_W}fault")}
        for abstract in self.abstract.iterfind(f"{_W}fault"):
            name = str(abstract.get("name", ""))
            if name in bound:
                soap_fault = bound[name].find(f"{{{self.soap}}}fault")
                if soap_fault is not None:
                    self._literal(soap_fault, f"fault {name}")
            clark = self.port_type.qname(abstract.get("message"), abstract)
            message = self.definitions.messages.get(clark)
            if message is None:
                raise self.port_type.refuse(
                    f"operation {self.name}: fault {name} names no message ({clark})", abstract
                )
            parts = list(_parts(message))
            if len(parts) != 1 or parts[0].element is None:
                raise message.refuse(
                    f"operation {self.name}: fault {name}'s message must have one part "
                    "declared by element (the fault's detail)"
                )
            _check_part(message, parts[0], "document", elements, set(), self.name)
            yield Fault(name, parts[0].element)


def _parts(message: _Declared) -> Iterator[Part]:
    for node in message.node.iterfind(f"{_W}part"):
        element, type_ = node.get("element"), node.get("type")
        yield Part(
            name=str(node.get("name", "")),
            element=None if element is None else message.qname(element, node),
            type=None if type_ is None else message.qname(type_, node),
        )


def _check_part(
    message: _Declared, part: Part, style: str, elements: set[str], types: set[str], op: str
) -> None:
    node = next(n for n in message.node.iterfind(f"{_W}part") if n.get("name") == part.name)
    label = f"operation {op}: part {part.name} of message {message.node.get('name')}"
    if style == "document" and part.element is None:
        raise message.refuse(f"{label} is declared by type; document style needs an element", node)
    if part.element is not None and part.element not in elements:
        raise message.refuse(f"{label} names the element {part.element}, not in the schema", node)
    if part.element is None and part.type is None:
        raise message.refuse(f"{label} has neither element nor type", node)
    if part.element is None and part.type not in types and not _builtin(part.type):
        what = "not a built-in type of XSD" if _in_xsd(part.type) else "not in the schema"
        raise message.refuse(f"{label} names the type {part.type}, {what}", node)


def _check_encoded_part(message: _Declared, part: Part, op: str) -> None:
    """A part of an encoded body maps like a literal one only when declared by a plain type."""
    node = next(n for n in message.node.iterfind(f"{_W}part") if n.get("name") == part.name)
    label = f"operation {op}: part {part.name} of message {message.node.get('name')}"
    if part.element is not None:
        raise message.refuse(
            f"{label} is declared by element; in SOAP encoding the bridge serves parts "
            "declared by type",
            node,
        )
    if part.type is not None and etree.QName(part.type).namespace in ENCODING_NAMESPACES:
        raise message.refuse(
            f"{label} is of the SOAP encoding type {part.type}; arrays, structs and the "
            "encoding's own types (whose values may be multi-reference) are not supported: "
            "declare the part with an XML Schema type",
            node,
        )


def _in_xsd(clark: str | None) -> bool:
    return clark is not None and clark.startswith(f"{{{XSD}}}")


def _builtin(clark: str | None) -> bool:
    """A built-in type of XSD, which a part names without the schema declaring it."""
    if clark is None or not _in_xsd(clark):
        return False
    local = etree.QName(clark).localname
    return local in BUILTINS or local in _OTHER_BUILTINS


def _soap_version(binding: Any) -> SoapVersion | None:
    for namespace, version in VERSIONS.items():
        if binding.find(f"{{{namespace}}}binding") is not None:
            return version
    return None


def _namespace_of(version: SoapVersion) -> str:
    return SOAP11 if version == "1.1" else SOAP12
