"""The WSGI application in front of each simulator's spyne service.

    GET  /sims/<name>?wsdl          the checked-in contract, soap:address = this simulator
    POST /sims/<name>               a SOAP 1.1 call
    *    /sims/<name>/_control/...  the control plane (`bridge.sims.control`)
    GET  /sims/<name>/<page>/...    a simulator's own pages (the logistics labels)

A SOAP call is read whole (at most `MAX_BODY` bytes), parsed with DTDs and entities refused,
validated against the contract's schema, and its SOAPAction, when given, must name the body's
operation (spyne dispatches on the body alone); a refused message gets a `soap:Client` fault and
never reaches spyne. Then the next injected fault for its operation, if any, is taken and served
(`bridge.sims.faults`) before or after spyne handles the call.

Dropping a connection needs the client socket: werkzeug's server puts it in the environ as
`werkzeug.socket`, gunicorn as `gunicorn.socket`. The wrapper shuts it down and raises
`ConnectionResetError`, which both servers treat as a client that went away (no log, no reply).
A server that exposes no socket gets a reply whose Content-Length promises more bytes than are
sent, so the client still sees an incomplete response.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

from bridge.sims.contract import NS_ENV, Contract, RefusedMessage, parse_hardened
from bridge.sims.control import SimControl, control_response
from bridge.sims.faults import InjectedFault
from bridge.sims.records import CALL_ID
from bridge.sims.soap import fault_envelope
from bridge.wsgi import reply as _reply

MAX_BODY = 10 * 1024 * 1024
XML = "text/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CONTROL = "/_control/"
# Set in the environ when core banking must answer PostPayment with 91 (an injected fault).
UNAVAILABLE = "bridge.sims.unavailable"

Page = Callable[[str], Response]


@dataclass(frozen=True)
class Simulator:
    name: str
    contract: Contract
    soap: Any  # spyne's WsgiApplication
    control: SimControl
    # operation -> local name of the element holding its idempotency key (None: no key)
    keys: Mapping[str, str | None]
    # first path segment -> page handler, called with the rest of the path
    pages: Mapping[str, Page] = field(default_factory=dict)


class SimulatorApp:
    """One simulator as a WSGI application, to be mounted at /sims/<name>."""

    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(CONTROL):
            response = control_response(self.sim.control, Request(environ), path[len(CONTROL) :])
            return response(environ, start_response)
        if path == "/":
            if method == "GET" and _asks_for_wsdl(environ.get("QUERY_STRING", "")):
                return _reply(start_response, "200 OK", XML, self.sim.contract.wsdl)
            if method == "POST":
                return self._soap_call(environ, start_response)
            return _reply(
                start_response,
                "405 Method Not Allowed",
                TEXT,
                b"POST a SOAP 1.1 request, or GET ?wsdl\n",
                extra=[("Allow", "GET, POST")],
            )
        segment, _, rest = path[1:].partition("/")
        page = self.sim.pages.get(segment)
        if page is not None and method == "GET":
            return page(rest)(environ, start_response)
        return _reply(start_response, "404 Not Found", TEXT, b"Not Found\n")

    def _soap_call(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        recorder = self.sim.control.recorder
        try:
            body = _read_body(environ)
            element = self.sim.contract.request_element(body)
            operation = etree.QName(element).localname
            _check_action(environ, operation)
        except RequestEntityTooLarge:
            return _reply(start_response, "413 Request Entity Too Large", TEXT, b"Too large\n")
        except RefusedMessage as exc:
            recorder.record_unanswered(
                "(refused)", None, None, {"outcome": "refused", "reason": str(exc)[:500]}
            )
            return _reply(
                start_response, "500 Internal Server Error", XML, fault_envelope("Client", str(exc))
            )
        key = self._key(element, operation)
        fault = self.sim.control.fault_queue.take(operation)
        if fault is not None and fault.stage == "request":
            if fault.kind == "latency":
                time.sleep(fault.seconds)
            elif fault.kind == "unavailable":
                environ[UNAVAILABLE] = True
            else:
                recorder.record_unanswered(
                    operation, key, fault.kind, {"outcome": "injected", "fault_id": fault.id}
                )
                return self._serve_fault(fault, environ, start_response)

        status, headers, payload = self._handle(environ, body, operation, key, fault)
        if fault is not None and fault.stage == "response":
            if fault.kind != "latency":
                return self._serve_fault(fault, environ, start_response)
            time.sleep(fault.seconds)
        start_response(status, headers)
        return [payload]

    def _handle(
        self,
        environ: WSGIEnvironment,
        body: bytes,
        operation: str,
        key: str | None,
        fault: InjectedFault | None,
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """Let spyne answer the call; record it here if the handler did not (a fault)."""
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        status, headers, payload = _call(self.sim.soap, environ)
        recorder = self.sim.control.recorder
        call_id = environ.get(CALL_ID)
        if call_id is None:
            summary = _fault_summary(status, payload)
            recorder.record_unanswered(operation, key, fault.kind if fault else None, summary)
        elif fault is not None:
            recorder.mark_fault(int(call_id), fault.kind)
        return status, headers, payload

    def _key(self, element: etree._Element, operation: str) -> str | None:
        name = self.sim.keys.get(operation)
        if name is None:
            return None
        found = element.find(f".//{{{self.sim.contract.namespace}}}{name}")
        return None if found is None else found.text

    def _serve_fault(
        self, fault: InjectedFault, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if fault.kind == "soap_fault":
            text = f"Injected fault {fault.id}: the {self.sim.name} simulator failed"
            return _reply(
                start_response, "500 Internal Server Error", XML, fault_envelope("Server", text)
            )
        return transport_fault(fault, environ, start_response)


def transport_fault(
    fault: InjectedFault, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """A fault below SOAP, the same in every simulator: an HTTP 500 without an envelope
    (`http_500`), a 504 after `fault.seconds` (`timeout`), or the connection dropped."""
    if fault.kind == "http_500":
        return _reply(start_response, "500 Internal Server Error", TEXT, b"Internal Server Error\n")
    if fault.kind == "timeout":
        time.sleep(fault.seconds)
        return _reply(start_response, "504 Gateway Timeout", TEXT, b"Gateway Timeout\n")
    return drop_connection(environ, start_response)


def drop_connection(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    client = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if isinstance(client, socket.socket):
        with contextlib.suppress(OSError):  # already gone: that is what we wanted
            client.shutdown(socket.SHUT_RDWR)
        raise ConnectionResetError(errno.ECONNRESET, "connection dropped by an injected fault")
    partial = (
        b"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:soap='" + NS_ENV.encode()
    )
    start_response("200 OK", [("Content-Type", XML), ("Content-Length", str(len(partial) + 4096))])
    return [partial]


def _check_action(environ: WSGIEnvironment, operation: str) -> None:
    """The contracts' soapAction is the operation name; an empty or absent one is allowed."""
    action = environ.get("HTTP_SOAPACTION", "").strip().strip('"')
    if action and action != operation:
        raise RefusedMessage(
            f"SOAPAction {action!r} does not name the body's operation {operation}"
        )


def _asks_for_wsdl(query: str) -> bool:
    return any(name.lower() == "wsdl" for name in parse_qs(query, keep_blank_values=True))


def _read_body(environ: WSGIEnvironment) -> bytes:
    stream = get_input_stream(environ, max_content_length=MAX_BODY)
    body = stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise RequestEntityTooLarge()
    return body


def _call(app: Any, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to completion and hand back its status, headers and body."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, capture)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    headers = [(name, value) for name, value in started[1] if name.lower() != "content-length"]
    payload = b"".join(chunks)
    return started[0], [*headers, ("Content-Length", str(len(payload)))], payload


def _fault_summary(status: str, payload: bytes) -> dict[str, Any]:
    summary: dict[str, Any] = {"outcome": "fault", "status": int(status.split()[0])}
    try:
        fault = parse_hardened(payload).find(f"{{{NS_ENV}}}Body/{{{NS_ENV}}}Fault")
    except RefusedMessage:
        return summary
    if fault is not None:
        summary["faultcode"] = fault.findtext("faultcode")
        summary["faultstring"] = (fault.findtext("faultstring") or "")[:500]
    return summary
