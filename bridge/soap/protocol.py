"""spyne's SOAP 1.1 protocol with the bodies read and written by the compiled mappings.

spyne keeps what it is good at: dispatch on the body element, the method context, its events
(``method_call``, ``method_return_object``, ``method_exception_object``: where authentication,
audit and metrics listen) and the fault path. What it is slow at is replaced: its parse (the
gateway has parsed and checked the envelope already and hands it over in the environ), its
object deserialisation (the request's compiled mapping reads the body element into the
canonical object the method receives) and its serialisation (the response's compiled writer
produces the body text, which is framed as an envelope without building a tree). A bare spyne
echo spends most of its time in exactly those three (DESIGN.md: 7x Flask per request).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spyne import Fault
from spyne.protocol.soap import Soap11

from bridge.mapping import CompiledMapping, Mappings
from bridge.observability.correlation import correlation_id
from bridge.soap.faults import SOAP_ENV, fault_envelope, soap_fault
from bridge.soap.gateway import ENVIRON_KEY, SoapRequest
from bridge.soap.operations import Operation

_ENVELOPE_OPEN = (
    f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
).encode()
_ENVELOPE_CLOSE = b"</soap:Body></soap:Envelope>"


class MappedSoap11(Soap11):  # type: ignore[misc]
    """SOAP 1.1 in and out for one contract whose operations each have two mapping specs."""

    def __init__(self, mappings: Mappings, operations: Sequence[Operation]) -> None:
        # No spyne validation: the gateway has validated the body against the contract schema.
        super().__init__(validator=None, cleanup_namespaces=False)
        self._readers: dict[str, CompiledMapping] = {}
        self._writers: dict[str, CompiledMapping] = {}
        (self._namespace,) = {operation.namespace for operation in operations}
        for operation in operations:
            self._readers[operation.element] = mappings[operation.request]
            self._writers[operation.element] = mappings[operation.response]

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        ctx.in_document = _request(ctx).envelope

    def decompose_incoming_envelope(self, ctx: Any, message: Any = None) -> None:
        request = _request(ctx)
        ctx.in_header_doc = request.headers
        ctx.in_body_doc = request.body
        ctx.method_request_string = request.body.tag

    def deserialize(self, ctx: Any, message: Any) -> None:
        self.event_manager.fire_event("before_deserialize", ctx)
        try:
            ctx.in_object = self._readers[ctx.method_request_string].read(ctx.in_body_doc)
        except Exception as exc:  # a MappingError's path already names the element
            raise soap_fault(exc, correlation_id(ctx.transport.req_env)) from exc
        self.event_manager.fire_event("after_deserialize", ctx)

    def serialize(self, ctx: Any, message: Any) -> None:
        self.event_manager.fire_event("before_serialize", ctx)
        if ctx.out_error is not None:
            fault = soap_fault(ctx.out_error, correlation_id(ctx.transport.req_env))
            ctx.out_document = fault_envelope(fault, self._namespace)
        else:
            writer = self._writers[ctx.method_request_string]
            body = writer.write_text(ctx.out_object[0]).encode()
            ctx.out_document = _ENVELOPE_OPEN + body + _ENVELOPE_CLOSE
        self.event_manager.fire_event("after_serialize", ctx)

    def create_out_string(self, ctx: Any, charset: str | None = None) -> None:
        ctx.out_string = [ctx.out_document]


def _request(ctx: Any) -> SoapRequest:
    request = ctx.transport.req_env.get(ENVIRON_KEY)
    if not isinstance(request, SoapRequest):  # only the gateway may call this application
        raise Fault("Server", "the request did not pass the SOAP gateway")
    return request
