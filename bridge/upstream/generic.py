"""The SOAP client of one imported service: the Body child in, the reply's Body child out.

No zeep here: the contract was loaded once by `bridge.contracts.loader`, the messages are
written and read by the service's codecs (`bridge.mapping.generic`), so all this client does is
frame the Body child in the SOAP 1.1 or 1.2 envelope its operation's binding names, post it
through the shared transport (`bridge.upstream.transport`: pooled keep-alive connections, one
deadline over the whole call, a reply cap, the verdicts of every answer), and say what came
back. A fault whose detail is one the operation declares (`wsdl:fault`) is read with that
fault's codec and raised as `UpstreamFault`; any other fault is judged like every upstream's
(a Client or Sender fault is a "no", anything else an unknown outcome).

Each service has its own circuit breaker (`bridge.upstream.breakers`): an outage of one legacy
system fails its callers fast without touching the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pybreaker
from lxml import etree

from bridge.contracts.catalog import ImportedService
from bridge.contracts.messages import decode_from_wire, encode_for_wire
from bridge.contracts.model import Contract, Operation
from bridge.domain.errors import BridgeError, OutcomeUnknown, UpstreamFault, UpstreamUnavailable
from bridge.observability import metrics
from bridge.observability.logging import current_correlation_id
from bridge.upstream.breakers import circuit_breaker, guarded
from bridge.upstream.transport import (
    VERSIONS,
    SoapTransport,
    SoapVersion,
    blames_sender,
    pooled_http,
    reply_body,
)

# (operation, fault name) -> reads the fault's detail element into its JSON form.
FaultReaders = Mapping[tuple[str, str], Any]


class ServiceUpstream:
    """`call("checkVat", body)` -> the reply's Body child (None for a one-way operation), or an
    `UpstreamError`. `transport` is None when the service has no upstream in this process (its
    import file says `simulator` and this process runs none): every call is then refused as
    unavailable, without a connection attempt."""

    def __init__(
        self,
        contract: Contract,
        transport: SoapTransport | None,
        breaker: pybreaker.CircuitBreaker,
        *,
        fault_codecs: FaultReaders,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.name = contract.name
        self.contract = contract
        self.transport = transport
        self.breaker = breaker
        self._fault_codecs = fault_codecs
        self._timeouts = dict(timeouts or {})

    def call(
        self,
        operation: str,
        body: Any,
        *,
        headers: Sequence[Any] = (),
        correlation_id: str | None = None,
    ) -> Any | None:
        """`headers`: SOAP header entries to send with the body (the pass-through forwards
        those the operation declares; the door has checked them)."""
        op = self.contract.operations[operation]
        with metrics.upstream_call(self.name, operation):
            return guarded(
                self.breaker,
                self.name,
                lambda: self._exchange(op, body, headers, correlation_id),
            )

    def _exchange(
        self, op: Operation, body: Any, entries: Sequence[Any], correlation_id: str | None
    ) -> Any | None:
        if self.transport is None:
            raise UpstreamUnavailable(
                self.name,
                f"{op.name}: not sent: the service's upstream is its simulator, and this "
                "process runs no simulators (set upstream: in its service.yaml)",
            )
        version = VERSIONS[op.soap_version]
        headers = version.headers(op.soap_action)
        correlation_id = correlation_id or current_correlation_id()
        if correlation_id:
            headers["X-Request-ID"] = correlation_id
        # RPC/encoded: the parts go out with xsi:type and the wrapper with encodingStyle
        # (a literal body comes back as it is).
        body = encode_for_wire(op, op.input, body)
        envelope = version.envelope_of(
            etree.tostring(body, encoding="UTF-8"),
            b"".join(etree.tostring(entry, encoding="UTF-8") for entry in entries),
        )
        status, content = self.transport.post(
            op.name, envelope, headers, timeout=self._timeouts.get(op.name)
        )
        if op.output is None and status in (200, 202) and not content.strip():
            return None  # a one-way operation: accepted, nothing to read
        reply = reply_body(
            self.name,
            op.name,
            status,
            content,
            version=version,
            declared=lambda fault, entry: self._declared(op, version, fault, entry),
        )
        expected = None if op.output is None else op.output.element
        if op.output is not None and op.output.use == "encoded" and reply.tag == expected:
            try:
                reply = decode_from_wire(reply)
            except BridgeError as exc:
                raise OutcomeUnknown(self.name, f"{op.name}: {exc.detail}") from None
        if reply.tag != expected:
            raise OutcomeUnknown(
                self.name,
                f"{op.name}: a reply of {etree.QName(reply).localname}, "
                f"not {etree.QName(expected).localname if expected else 'nothing'}",
            )
        return reply

    def _declared(
        self, op: Operation, version: SoapVersion, fault: Any, entry: Any
    ) -> BridgeError | None:
        """The `UpstreamFault` of a fault whose detail the operation declares; None for any
        other (judged by its code)."""
        for declared in op.faults:
            if entry.tag != declared.element:
                continue
            codec = self._fault_codecs.get((op.name, declared.name))
            if codec is None:
                return None
            try:
                content = codec.read(entry)
            except BridgeError as exc:
                return OutcomeUnknown(
                    self.name,
                    f"{op.name}: a {declared.name} fault whose detail cannot be read "
                    f"({exc.detail[:200]})",
                )
            return UpstreamFault(
                self.name,
                f"{op.name}: {declared.name}",
                fault=declared.name,
                content=content,
                sender=blames_sender(fault, version),
            )
        return None


class SimulatorEndpoints(Protocol):
    """This process's simulator server, as an imported service's client reaches it."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def address(self, name: str) -> str: ...


def service_upstream(
    service: ImportedService,
    simulators: SimulatorEndpoints | None,
    *,
    ca_certs: Path | None = None,
) -> ServiceUpstream:
    """The client of `service`: at the URL its import file names, or at its generated
    simulator on this process's simulator server (`/sims/services/<name>`), through connections
    whose calls carry that server's secret; with no transport when it names the simulator and this
    process runs none. Its own circuit breaker, from the import file. `ca_certs`: the
    authorities an https:// upstream's certificate must chain to (None: certifi's)."""
    config = service.config
    transport: SoapTransport | None = None
    if not config.simulated:
        transport = SoapTransport(
            service.name, config.upstream, pooled_http(ca_certs=ca_certs), timeout=config.timeout
        )
    elif simulators is not None:
        transport = SoapTransport(
            service.name,
            simulators.address(f"services/{service.name}"),
            pooled_http(headers=simulators.headers),
            timeout=config.timeout,
        )
    return ServiceUpstream(
        service.contract,
        transport,
        circuit_breaker(
            service.name,
            fail_max=config.breaker.fail_max,
            reset_timeout=config.breaker.reset_timeout,
        ),
        fault_codecs={
            (operation, fault.name): service.codecs[(operation, fault.name)]
            for operation, op in service.contract.operations.items()
            for fault in op.faults
            if (operation, fault.name) in service.codecs
        },
        timeouts={
            operation: config.timeout_of(operation) for operation in service.contract.operations
        },
    )
