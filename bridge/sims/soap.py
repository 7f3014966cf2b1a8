"""spyne at the simulators' edge: the wire (JSON) form of messages, the application factory,
and SOAP 1.1 faults written without spyne.

The models are read from the contract (`bridge.sims.schema_models`). spyne only parses and
writes the messages: the contract schema checks requests before spyne sees them
(`bridge.sims.contract`), and `?wsdl` serves the contract.
"""

from __future__ import annotations

import decimal
import logging
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree
from spyne import Application, Date, DateTime, Fault, Integer, ServiceBase, rpc
from spyne import Decimal as SpyneDecimal
from spyne.model.complex import ComplexModelBase
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from bridge.sims.context import Wire
from bridge.sims.contract import NS_ENV

# spyne logs every Client fault with a traceback at ERROR; a refused request is no server error.
CLIENT_FAULT_LOGGER = "spyne.application.client"


# A handler takes the WSGI environ and the request in wire form and answers the response's.
Handler = Callable[[dict[str, Any], Wire], Wire]


@dataclass(frozen=True)
class Operation:
    """One document/literal bare operation: element `name` of type `request`, answered with
    element `<name>Response` of type `response`."""

    name: str
    request: Any  # spyne model
    response: Any  # spyne model
    handle: Handler


def soap_application(
    name: str, namespace: str, address: str, operations: Sequence[Operation]
) -> Any:
    """spyne's WSGI application for one simulator, its interface document built at start-up
    for the configured public address (spyne would otherwise build it for the first caller)."""
    logging.getLogger(CLIENT_FAULT_LOGGER).setLevel(logging.CRITICAL)
    service = _service(f"{name}Service", operations)
    application = Application(
        [service],
        tns=namespace,
        name=name,
        in_protocol=Soap11(validator=None),  # the contract schema has already checked it
        out_protocol=Soap11(),
    )
    wsgi = WsgiApplication(application)
    wsgi.doc.wsdl11.build_interface_document(address)
    return wsgi


def _service(name: str, operations: Sequence[Operation]) -> Any:
    """A spyne ServiceBase subclass with one @rpc method per operation."""
    methods = {operation.name: _method(operation) for operation in operations}
    return types.new_class(name, (ServiceBase,), exec_body=lambda body: body.update(methods))


def _method(operation: Operation) -> Any:
    def method(ctx: Any, request: Any) -> Any:
        environ: dict[str, Any] = ctx.transport.req_env
        return from_wire(operation.response, operation.handle(environ, to_wire(request)))

    method.__name__ = operation.name
    return rpc(
        operation.request,
        _returns=operation.response,
        _body_style="bare",
        _in_message_name=operation.name,
        _out_message_name=f"{operation.name}Response",
    )(method)


def client_fault(code: str, text: str) -> Exception:
    """A SOAP Client fault: `client_fault("UnknownAccount", ...)` is `Client.UnknownAccount`."""
    fault: Exception = Fault(faultcode=f"Client.{code}", faultstring=text)
    return fault


def fault_envelope(code: str, text: str) -> bytes:
    """A SOAP 1.1 fault envelope (faultcode `soap:Server` or `soap:Client`)."""
    envelope = etree.Element(f"{{{NS_ENV}}}Envelope", nsmap={"soap": NS_ENV})
    body = etree.SubElement(envelope, f"{{{NS_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{NS_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = text
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def to_wire(value: Any) -> Wire:
    """A spyne object as JSON types, fields absent when empty."""
    wire: Wire = {}
    for name, kind in type(value)._type_info.items():
        field = getattr(value, name, None)
        if field is None:
            continue
        if _repeated(kind):
            wire[name] = [_scalar_to_wire(item) for item in field]
        else:
            wire[name] = _scalar_to_wire(field)
    return wire


def from_wire(cls: Any, wire: Wire) -> Any:
    """The spyne object of class `cls` for a wire dict (the inverse of `to_wire`)."""
    values: dict[str, Any] = {}
    for name, kind in cls._type_info.items():
        field = wire.get(name)
        if field is None:
            continue
        if _repeated(kind):
            values[name] = [_scalar_from_wire(kind, item) for item in field]
        else:
            values[name] = _scalar_from_wire(kind, field)
    return cls(**values)


def _repeated(kind: Any) -> bool:
    return bool(kind.Attributes.max_occurs > 1)


def _scalar_to_wire(value: Any) -> Any:
    if isinstance(value, ComplexModelBase):
        return to_wire(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _scalar_from_wire(kind: Any, value: Any) -> Any:
    # spyne's Date derives from DateTime and its Integer from Decimal: test the narrow one first.
    if issubclass(kind, ComplexModelBase):
        # customize() made a variant for min/max occurs; instances are made of the original.
        return from_wire(getattr(kind, "__orig__", None) or kind, value)
    if issubclass(kind, Date):
        return date.fromisoformat(value)
    if issubclass(kind, DateTime):
        return datetime.fromisoformat(value)
    if issubclass(kind, Integer):
        return int(value)
    if issubclass(kind, SpyneDecimal):
        return decimal.Decimal(value)
    return value
