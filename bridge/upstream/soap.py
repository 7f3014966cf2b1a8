"""One upstream SOAP system behind one object, built once at start-up.

zeep loads the checked-in contract (never a URL a caller supplied), checks the binding and knows
each operation's SOAPAction; it makes no call (its own default `Transport` only ever reads the
contract file). The calls go through `bridge.upstream.transport` (urllib3 keep-alive pools, one
deadline over the whole call). The message bodies are written and read by the compiled
mappings: zeep's own reply parsing costs about 12x a hardened lxml parse + walk (DESIGN.md,
pitfalls), and the mapping is the one place where vocabularies are translated.

Only a SOAP Client fault is a "no" (`UpstreamRejected`). Once a message may have reached the
upstream, anything else that is not a readable reply (a timeout, a dropped connection, HTTP 5xx,
a Server fault, an HTML page, an empty, truncated or unreadable body) is `OutcomeUnknown`: the
message may have been applied, and the caller settles that by asking (core banking's
InquirePayment) or by sending again under the same idempotency key, never by guessing. A message
that was never sent (its mapping failed, the connection was refused) is not unknown. The HTTP
exchange and these verdicts are `bridge.upstream.transport`'s, shared with the clients of
imported services.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeep import Client, Settings

from bridge.domain.errors import BridgeError, ConfigurationError, OutcomeUnknown, UpstreamTimeout
from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import file_validator
from bridge.mapping.validation import ContractSchema
from bridge.observability import metrics
from bridge.observability.logging import current_correlation_id
from bridge.upstream.transport import SOAP11, SoapTransport, UpstreamPool, pooled_http, reply_body

log = logging.getLogger(__name__)

# UpstreamTimeout: callers catch it from here, where the calls that raise it are made.
__all__ = [
    "SoapUpstream",
    "UpstreamTimeout",
    "hardened_settings",
]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    soap_action: str
    request: str  # mapping names, e.g. "corebank/post_payment"
    response: str


def hardened_settings() -> Settings:
    return Settings(
        strict=True,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )


class SoapUpstream:
    """`call("PostPayment", posting)` -> the canonical reply, or an `UpstreamError`."""

    def __init__(
        self,
        name: str,
        contract: Path,
        address: str,
        mappings: Mappings,
        operations: dict[str, tuple[str, str]],
        *,
        timeout: float,
        http: UpstreamPool | None = None,
        checked: bool = False,
    ) -> None:
        """`http`: the connections to call it through (`pooled_http()` when not given);
        `checked`: messages can be checked against the contract before they are sent
        (`refusal`); the schema is compiled once, here."""
        self.name = name
        self.address = address
        self._timeout = timeout
        self._wire = SoapTransport(name, address, http or pooled_http(), timeout=timeout)
        client = Client(str(contract), settings=hardened_settings())
        bindings = list(client.wsdl.bindings.values())
        if len(bindings) != 1:
            raise ConfigurationError(f"{contract}: expected one binding, found {len(bindings)}")
        binding = bindings[0]
        self.service = client.create_service(binding.name, address)
        known = binding.all()
        self.operations: dict[str, Operation] = {}
        for operation, (request, response) in operations.items():
            if operation not in known:
                raise ConfigurationError(f"{contract} has no operation {operation}")
            mappings[request], mappings[response]  # fail at start-up on a missing spec
            self.operations[operation] = Operation(
                operation, known[operation].soapaction or operation, request, response
            )
        self._mappings = mappings
        # Messages are checked against it on request (`refusal`, before a sync batch is
        # built), not on every call.
        self._schema: ContractSchema | None = file_validator(contract) if checked else None

    def refusal(self, operation: str, message: Any) -> str | None:
        """Why the upstream's contract would refuse this message, or None if it fits.

        A sync job checks each record before batching, so one bad record is set aside as a dead
        letter instead of making the upstream refuse the whole batch."""
        try:
            body = xml.parse(self._mappings[self.operations[operation].request].write(message))
        except BridgeError as exc:
            return exc.detail
        violation = None if self._schema is None else self._schema.violation(body)
        if violation is not None:
            return f"not valid for the {self.name} contract: {violation.field}: {violation.reason}"
        return None

    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any:
        with metrics.upstream_call(self.name, operation):
            return self._call(operation, message, correlation_id)

    def _call(self, operation: str, message: Any, correlation_id: str | None) -> Any:
        op = self.operations[operation]
        body = self._mappings[op.request].write_text(message).encode("utf-8")
        headers = SOAP11.headers(op.soap_action)
        # Not given: the id of the request or sync batch this call is made for, if any.
        correlation_id = correlation_id or current_correlation_id()
        if correlation_id:
            headers["X-Request-ID"] = correlation_id
        status, content = self._wire.post(operation, SOAP11.envelope_of(body), headers)
        reply = reply_body(self.name, operation, status, content)
        try:
            return self._mappings[op.response].read(reply)
        except BridgeError as exc:
            raise OutcomeUnknown(
                self.name, f"{operation}: a reply that cannot be read ({exc.detail[:200]})"
            ) from None
