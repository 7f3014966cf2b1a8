"""An imported WSDL as the bridge sees it: its ports, and for the binding it serves, each
operation's style, SOAP version, SOAPAction, messages and faults.

Names of elements and types are Clark names (`{namespace}local`), as lxml writes them. The
schema the messages are declared in is a `bridge.mapping.xsdtree.SchemaSet`.

Plain data, built once at import or start-up by `bridge.contracts.loader`; the diff, the
doors, the simulator and the codecs read it and never parse the WSDL again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bridge.mapping.xsdtree import SchemaSet

Style = Literal["document", "rpc"]
SoapVersion = Literal["1.1", "1.2"]
Use = Literal["literal", "encoded"]


@dataclass(frozen=True, slots=True)
class Part:
    """One `wsdl:part`: declared by `element` (document style) or by `type` (RPC style)."""

    name: str
    element: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Body:
    """What one direction of one operation carries in the SOAP Body.

    `element` is the Clark name of the Body's child: the part's global element (document
    style), or the RPC wrapper `{binding namespace}Operation` / `...OperationResponse` whose
    children are the parts, unqualified (RPC style). `wrapped` is true for RPC and for
    document/literal wrapped (one part whose element is named like the operation): the JSON
    form of the message is then the children of `element`. `use` is "encoded" for an RPC
    body in SOAP encoding (section 5 of SOAP 1.1): the same elements, with `xsi:type` on each
    part and `encodingStyle` on the wrapper (`bridge.contracts.messages.encode_for_wire`)."""

    element: str
    parts: tuple[Part, ...]
    wrapped: bool
    use: Use = "literal"


@dataclass(frozen=True, slots=True)
class Fault:
    """A declared `wsdl:fault`: its name and the element its `<detail>` carries."""

    name: str
    element: str


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    style: Style
    soap_version: SoapVersion
    soap_action: str  # may be "" (the WSDL says so, or says nothing)
    input: Body
    output: Body | None  # None: a one-way operation
    faults: tuple[Fault, ...] = ()
    headers: tuple[str, ...] = ()  # Clark names of the header elements the input declares
    documentation: str = ""


@dataclass(frozen=True, slots=True)
class Port:
    """One `wsdl:port` of one `wsdl:service`: where the original contract says it lives."""

    service: str
    name: str
    binding: str  # Clark name of its binding
    soap_version: SoapVersion
    address: str


@dataclass(frozen=True)
class Contract:
    """One imported WSDL: `name` is the bridge's name for it (`vat`), `wsdl` the main file
    (its imports lie beside it), `port` the port whose binding the bridge serves."""

    name: str
    wsdl: Path
    target_namespace: str
    ports: tuple[Port, ...]
    port: Port
    operations: Mapping[str, Operation]
    schema: SchemaSet
