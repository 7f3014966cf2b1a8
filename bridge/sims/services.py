"""The generated simulator of every imported service: any WSDL answers at once, no code written.

    GET  /sims/services/<name>?wsdl           the contract, soap:address = this simulator
    GET  /sims/services/<name>?xsd=<path>     a file it imports or includes
    POST /sims/services/<name>                a SOAP 1.1 or 1.2 call, as the served binding says
    *    /sims/services/<name>/_control/...   the control plane (`bridge.sims.control`)

A call is read whole (at most `MAX_BODY` bytes), parsed with DTDs and entities refused, and its
Body child, picked like the pass-through picks it (element, then SOAPAction), is validated
against the contract: a message the contract refuses is a Client (1.2: Sender) fault, recorded
as refused. Then the next injected fault for the operation, if any (`bridge.sims.faults`: the
common kinds, and `declared_fault`: the operation's first declared fault, its detail a sample),
is served before or after the answer, as the four hand-written simulators do.

The answer is an XSD-valid sample of the operation's output element (`bridge.mapping.samples`),
deterministic: its seed is drawn from the simulator's seed (settings, or `?seed=` /
`X-Bridge-Sim-Seed` on the call) and the request's canonical form, so the same request gets the
same answer, and another request another one. Every call is recorded (`Recorder`): a test can
prove what reached the upstream, and that a refused request reached nothing.

With recordings (`replay`: `bridge sim replay`, or `replay:` in the service's service.yaml;
`bridge.sims.recording`), a request recorded by `bridge sim record` is answered with the
recorded reply and status instead, matched by operation and masked canonical body; one nobody
recorded is a Client fault saying so, or the generated sample when the fallback is `sample`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from lxml import etree
from sqlalchemy import Engine
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_input_stream

from bridge.contracts.catalog import ImportedService
from bridge.contracts.messages import body_element, decode_from_wire, encode_for_wire
from bridge.contracts.model import Contract, Operation
from bridge.contracts.published import asked_document, served_documents
from bridge.domain.clock import Clock, utcnow
from bridge.domain.errors import BridgeError, InvalidInput
from bridge.mapping import xml
from bridge.mapping.samples import sample
from bridge.observability.metrics import OPERATION_KEY
from bridge.sims.control import SimControl, control_response
from bridge.sims.faults import COMMON_KINDS, FaultQueue, InjectedFault
from bridge.sims.recording import Replay, replay_of
from bridge.sims.records import Recorder
from bridge.sims.wsgi import CONTROL, MAX_BODY, TEXT, transport_fault
from bridge.upstream.envelopes import (
    XML_CONTENT,
    content_type,
    fault_envelope,
    open_envelope,
    requested_action,
)
from bridge.upstream.transport import VERSIONS, SoapVersion
from bridge.wsgi import reply as _reply

MOUNT = "/sims/services"
DECLARED_FAULT = "declared_fault"
SEED_HEADER = "HTTP_X_BRIDGE_SIM_SEED"
_SYSTEM_LENGTH = 16  # sim_calls.system, sim_faults.system


def system_of(name: str) -> str:
    """The simulator's name in the simulator tables: `~vat`, never one of the four built-in
    simulators' names, and within the column's 16 characters (a long name keeps its start and
    a hash of the whole)."""
    system = f"~{name}"
    if len(system) <= _SYSTEM_LENGTH:
        return system
    return f"~{name[:6]}~{hashlib.sha256(name.encode()).hexdigest()[:8]}"


class ServiceSimulator:
    """The generated simulator of one imported service, as a WSGI app (module docstring)."""

    def __init__(
        self,
        service: ImportedService,
        engine: Engine,
        *,
        base_url: str,
        seed: int = 0,
        clock: Clock = utcnow,
        replay: Replay | None = None,
    ) -> None:
        self.service = service
        self.contract: Contract = service.contract
        self.seed = seed
        self.replay = replay
        self.address = f"{base_url.rstrip('/')}{MOUNT}/{service.name}"
        self.version: SoapVersion = VERSIONS[self.contract.port.soap_version]
        self.documents = served_documents(self.contract, self.address)
        system = system_of(service.name)
        operations = frozenset(self.contract.operations)
        self.control = SimControl(
            name=service.name,
            recorder=Recorder(engine, system, clock),
            fault_queue=FaultQueue(
                engine=engine,
                system=system,
                clock=clock,
                operations=operations,
                kinds=COMMON_KINDS | {DECLARED_FAULT},
            ),
        )
        self._by_element: dict[str, list[Operation]] = {}
        for operation in self.contract.operations.values():
            self._by_element.setdefault(operation.input.element, []).append(operation)
        # Trees of the output and fault elements, built once (the schema set memoises types).
        self._outputs = {
            name: body_element(self.contract, op.output)
            for name, op in self.contract.operations.items()
            if op.output is not None
        }
        self._faults = {
            name: self.contract.schema.element(op.faults[0].element)
            for name, op in self.contract.operations.items()
            if op.faults
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(CONTROL):
            response = control_response(self.control, Request(environ), path[len(CONTROL) :])
            return response(environ, start_response)
        if path != "/":
            return _reply(start_response, "404 Not Found", TEXT, b"Not Found\n")
        if method == "POST":
            return self._call(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        document = asked_document(self.documents, query) if method == "GET" else None
        if document is not None:
            return _reply(start_response, "200 OK", XML_CONTENT, document)
        return _reply(
            start_response,
            "405 Method Not Allowed",
            TEXT,
            b"POST a SOAP request, or GET ?wsdl\n",
            extra=[("Allow", "GET, POST")],
        )

    def _call(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        recorder = self.control.recorder
        try:
            body, operation = self._request(environ)
        except BridgeError as exc:
            recorder.record_unanswered(
                "(refused)", None, None, {"outcome": "refused", "reason": exc.detail[:500]}
            )
            return self._fault(start_response, "Client", exc.detail)
        environ[OPERATION_KEY] = f"{self.service.name}.{operation.name}"
        fault = self.control.fault_queue.take(operation.name)
        if fault is not None and fault.stage == "request":
            if fault.kind == "latency":
                time.sleep(fault.seconds)
            else:
                recorder.record_unanswered(
                    operation.name, None, fault.kind, {"outcome": "injected", "fault_id": fault.id}
                )
                return self._injected(fault, operation, environ, start_response)
        if self.replay is not None:
            replayed = self._replayed(environ, operation, body, start_response)
            if replayed is not None:
                return replayed
        seed = self._seed(environ, body)
        answer = recorder.record(
            environ,
            operation.name,
            None,
            lambda _call: {"seed": seed},
            lambda response: {"outcome": "answered", **response},
        )
        if fault is not None and fault.stage == "response":
            if fault.kind != "latency":
                return self._injected(fault, operation, environ, start_response)
            time.sleep(fault.seconds)
        output = self._outputs.get(operation.name)
        if output is None:
            return _reply(start_response, "202 Accepted", content_type(self.version), b"")
        reply = sample(output, int(answer["seed"]))
        if operation.output is not None:
            reply = encode_for_wire(operation, operation.output, reply)
        payload = self.version.envelope_of(etree.tostring(reply, encoding="UTF-8"))
        return _reply(start_response, "200 OK", content_type(self.version), payload)

    def _replayed(
        self,
        environ: WSGIEnvironment,
        operation: Operation,
        body: Any,
        start_response: StartResponse,
    ) -> Iterable[bytes] | None:
        """The recorded reply to this request; a Client fault when nobody recorded it; None
        when the sample answers instead (fallback `sample`)."""
        assert self.replay is not None
        recorded = self.replay.answer(operation.name, body)
        if recorded is None:
            if self.replay.fallback == "sample":
                return None
            self.control.recorder.record_unanswered(
                operation.name, None, None, {"outcome": "not recorded"}
            )
            text = f"not recorded: no recording of {operation.name} answers this request"
            return self._fault(start_response, "Client", text)
        self.control.recorder.record(
            environ,
            operation.name,
            None,
            lambda _call: {"recording": recorded.key},
            lambda response: {"outcome": "replayed", **response},
        )
        return _reply(
            start_response,
            status_line(recorded.status),
            content_type(self.version),
            recorded.reply,
        )

    def _request(self, environ: WSGIEnvironment) -> tuple[Any, Operation]:
        action = requested_action(environ, self.version)
        data = read_request(environ)
        _, body = open_envelope(xml.parse(data), self.version)
        candidates = self._by_element.get(body.tag, [])
        if action:
            candidates = [op for op in candidates if op.soap_action in (action, "")]
        if not candidates:
            raise InvalidInput(f"no operation of {self.service.name} takes {body.tag}")
        if candidates[0].input.use == "encoded":
            body = decode_from_wire(body)  # xsi:type and encodingStyle: not the schema's
        violation = self.contract.schema.validator.violation(body)
        if violation is not None:
            raise InvalidInput(f"{violation.field or 'the message'}: {violation.reason}")
        return body, candidates[0]

    def _seed(self, environ: WSGIEnvironment, body: Any) -> int:
        """The simulator's seed (or the call's own), mixed with the request's canonical form:
        the same request, the same answer."""
        base = self.seed
        asked = parse_qs(environ.get("QUERY_STRING", "")).get("seed") or [
            environ.get(SEED_HEADER, "")
        ]
        if asked[0].strip().isdigit():
            base = int(asked[0].strip())
        canonical = etree.tostring(body, method="c14n")
        digest = hashlib.sha256(str(base).encode() + b"\0" + canonical).digest()
        return int.from_bytes(digest[:8], "big") % (2**31)

    def _injected(
        self,
        fault: InjectedFault,
        operation: Operation,
        environ: WSGIEnvironment,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        if fault.kind == DECLARED_FAULT and operation.name in self._faults:
            declared = operation.faults[0]
            detail = sample(self._faults[operation.name], fault.id)
            payload = fault_envelope(self.version, "Client", declared.name, [detail])
            return _reply(
                start_response, "500 Internal Server Error", content_type(self.version), payload
            )
        if fault.kind in ("soap_fault", DECLARED_FAULT):
            text = f"Injected fault {fault.id}: the {self.service.name} simulator failed"
            return self._fault(start_response, "Server", text)
        return transport_fault(fault, environ, start_response)

    def _fault(self, start_response: StartResponse, code: str, text: str) -> Iterable[bytes]:
        payload = fault_envelope(self.version, code, text[:500], [])
        return _reply(
            start_response, "500 Internal Server Error", content_type(self.version), payload
        )


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def read_request(environ: WSGIEnvironment) -> bytes:
    """The whole request body, at most `MAX_BODY` bytes (an InvalidInput beyond): the
    simulators' and the recording proxy's (`bridge.sims.recording_proxy`)."""
    try:
        body: bytes = get_input_stream(environ, max_content_length=MAX_BODY).read(MAX_BODY + 1)
    except RequestEntityTooLarge:
        raise InvalidInput(f"the request is longer than {MAX_BODY} bytes") from None
    if len(body) > MAX_BODY:
        raise InvalidInput(f"the request is longer than {MAX_BODY} bytes")
    return body


def create_service_simulators(
    services: Iterable[ImportedService],
    engine: Engine,
    base_url: str,
    *,
    seed: int = 0,
    clock: Clock = utcnow,
) -> dict[str, ServiceSimulator]:
    """The simulator of every imported service, by mount path ("/sims/services/vat"), each
    answering from its recordings when its service.yaml names them (`replay:`)."""
    return {
        f"{MOUNT}/{service.name}": ServiceSimulator(
            service, engine, base_url=base_url, seed=seed, clock=clock, replay=replay_of(service)
        )
        for service in services
    }
