"""The recording proxy of `bridge sim record NAME --upstream URL DIR`: a SOAP endpoint that
forwards every call of one imported service to its real upstream, answers what the upstream
answered, and saves the exchange (masked) in DIR (`bridge.sims.recording`).

    GET  ?wsdl, ?xsd=<path>   the contract, its address this proxy (point the clients here)
    POST                      a call of the service, forwarded as it came

The request is forwarded byte for byte with the HTTP headers a SOAP call needs (Content-Type,
SOAPAction) and the caller's credential for the upstream (Authorization, X-API-Key), which are
never written down. What is recorded is the request's Body child and the reply, both masked.
A request whose operation cannot be told (not an Envelope of the service's SOAP version, a Body
child no operation takes) is refused with a Client fault and reaches nothing; a call the
upstream did not answer is a Server fault and is not recorded (there is nothing to replay).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from bridge.contracts.catalog import ImportedService
from bridge.contracts.model import Operation
from bridge.contracts.published import asked_document, served_documents
from bridge.domain.errors import BridgeError, InvalidInput
from bridge.mapping import xml
from bridge.sims.recording import Recording
from bridge.sims.services import read_request, status_line
from bridge.upstream.envelopes import (
    XML_CONTENT,
    content_type,
    fault_envelope,
    open_envelope,
    requested_action,
)
from bridge.upstream.transport import VERSIONS, SoapTransport

# HTTP headers passed on to the upstream (WSGI environ name -> header), never recorded.
_FORWARDED = {
    "CONTENT_TYPE": "Content-Type",
    "HTTP_SOAPACTION": "SOAPAction",
    "HTTP_AUTHORIZATION": "Authorization",
    "HTTP_X_API_KEY": "X-API-Key",
}


def operation_of(service: ImportedService, body: Any, action: str | None) -> Operation:
    """The operation a call names: the one taking its Body child (narrowed by SOAPAction when
    several take it)."""
    candidates = [op for op in service.contract.operations.values() if op.input.element == body.tag]
    if action and len(candidates) > 1:
        candidates = [op for op in candidates if op.soap_action == action] or candidates
    if not candidates:
        raise InvalidInput(f"no operation of {service.name} takes {body.tag}")
    return candidates[0]


class RecordingProxy:
    """WSGI app of the recording proxy of one imported service (the module docstring)."""

    def __init__(
        self,
        service: ImportedService,
        transport: SoapTransport,
        recording: Recording,
        *,
        address: str,
    ) -> None:
        self.service = service
        self.transport = transport
        self.recording = recording
        self.version = VERSIONS[service.contract.port.soap_version]
        self.documents = served_documents(service.contract, address)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("PATH_INFO", "") not in ("", "/"):
            return _reply(start_response, "404 Not Found", "text/plain", b"Not Found\n")
        if method == "POST":
            return self._forward(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        document = asked_document(self.documents, query) if method == "GET" else None
        if document is None:
            return _reply(
                start_response, "404 Not Found", "text/plain", b"POST a SOAP call, or GET ?wsdl\n"
            )
        return _reply(start_response, "200 OK", XML_CONTENT, document)

    def _forward(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            action = requested_action(environ, self.version)
            data = read_request(environ)
            _, body = open_envelope(xml.parse(data), self.version)
            operation = operation_of(self.service, body, action)
        except BridgeError as exc:
            return self._fault(start_response, "Client", f"not forwarded: {exc.detail}")
        headers = {name: environ[key] for key, name in _FORWARDED.items() if key in environ}
        try:
            status, content = self.transport.post(operation.name, data, headers)
        except BridgeError as exc:
            return self._fault(start_response, "Server", f"not recorded: {exc.detail}")
        self.recording.save(operation.name, body, status, content)
        return _reply(start_response, status_line(status), content_type(self.version), content)

    def _fault(self, start_response: StartResponse, code: str, text: str) -> Iterable[bytes]:
        payload = fault_envelope(self.version, code, text[:500], [])
        return _reply(
            start_response, "500 Internal Server Error", content_type(self.version), payload
        )


def _reply(
    start_response: StartResponse, status: str, media_type: str, body: bytes
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", media_type), ("Content-Length", str(len(body)))])
    return [body]
