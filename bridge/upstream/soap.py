"""One upstream SOAP system behind one object, built once at start-up.

zeep loads the checked-in contract (never a URL a caller supplied), checks the binding and knows
each operation's SOAPAction; its `Transport` owns the pooled HTTP session and the timeouts. The
message bodies are written and read by the compiled mappings: zeep's own reply parsing costs
about 12x a hardened lxml parse + walk (DESIGN.md, pitfalls), and the mapping is the one place
where vocabularies are translated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from zeep import Client, Settings
from zeep.transports import Transport

from bridge.domain.errors import (
    BridgeError,
    ConfigurationError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.mapping import Mappings, xml
from bridge.observability import metrics
from bridge.observability.logging import current_correlation_id

log = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE_OPEN = (
    f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
)
_ENVELOPE_CLOSE = "</soap:Body></soap:Envelope>"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"


class UpstreamTimeout(UpstreamUnavailable):
    """No answer in time: the upstream may or may not have applied the message."""

    kind = "upstream-timeout"


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


def build_upstream(
    name: str,
    contract: Path,
    address: str,
    mappings: Mappings,
    operations: dict[str, tuple[str, str]],
    *,
    timeout: float,
) -> SoapUpstream:
    from bridge.mapping.schemas import compile_schema

    return SoapUpstream(
        name,
        contract,
        address,
        mappings,
        operations,
        timeout=timeout,
        schema=compile_schema(contract),
    )


def pooled_session(pool_size: int = 32) -> requests.Session:
    session = requests.Session()
    # Upstream addresses come from settings; reading proxy variables from the environment on
    # every call costs more than the rest of the HTTP client's work (measured).
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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
        session: requests.Session | None = None,
        schema: Any = None,
    ) -> None:
        self.name = name
        self.address = address
        self._transport = Transport(
            session=session or pooled_session(), timeout=timeout, operation_timeout=timeout
        )
        client = Client(str(contract), transport=self._transport, settings=hardened_settings())
        bindings = list(client.wsdl.bindings.values())
        if len(bindings) != 1:
            raise ConfigurationError(f"{contract}: expected one binding, found {len(bindings)}")
        binding = bindings[0]
        self.service = client.create_service(binding.name, address)
        known = binding._operations
        self.operations: dict[str, Operation] = {}
        for operation, (request, response) in operations.items():
            if operation not in known:
                raise ConfigurationError(f"{contract} has no operation {operation}")
            mappings[request], mappings[response]  # fail at start-up on a missing spec
            self.operations[operation] = Operation(
                operation, known[operation].soapaction or operation, request, response
            )
        self._mappings = mappings
        self._schema = schema  # when given, every outgoing body is validated before sending

    def refusal(self, operation: str, message: Any) -> str | None:
        """Why the upstream's contract would refuse this message, or None if it fits.

        A sync job checks each record before batching, so one bad record is set aside as a dead
        letter instead of making the upstream refuse the whole batch."""
        try:
            body = xml.parse(self._mappings[self.operations[operation].request].write(message))
        except BridgeError as exc:
            return exc.detail
        if self._schema is not None and not self._schema.validate(body):
            error = self._schema.error_log.last_error
            return f"not valid for the {self.name} contract: {error.message} (line {error.line})"
        return None

    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any:
        with metrics.upstream_call(self.name, operation):
            return self._call(operation, message, correlation_id)

    def _call(self, operation: str, message: Any, correlation_id: str | None) -> Any:
        op = self.operations[operation]
        body = self._mappings[op.request].write_text(message)
        envelope = (_ENVELOPE_OPEN + body + _ENVELOPE_CLOSE).encode("utf-8")
        headers = {
            "Content-Type": 'text/xml; charset="utf-8"',
            "SOAPAction": f'"{op.soap_action}"',
        }
        # Not given: the id of the request or sync batch this call is made for, if any.
        correlation_id = correlation_id or current_correlation_id()
        if correlation_id:
            headers["X-Request-ID"] = correlation_id
        try:
            response = self._transport.post(self.address, envelope, headers)
        except requests.Timeout:
            raise UpstreamTimeout(self.name, f"{operation}: no answer in time") from None
        except requests.RequestException as exc:
            raise UpstreamUnavailable(
                self.name, f"{operation}: connection failed ({type(exc).__name__})"
            ) from None
        return self._mappings[op.response].read(self._reply_body(operation, response))

    def _reply_body(self, operation: str, response: requests.Response) -> Any:
        try:
            envelope = xml.parse(response.content)
        except BridgeError:
            if response.status_code >= 500:
                raise UpstreamUnavailable(
                    self.name, f"{operation}: HTTP {response.status_code}"
                ) from None
            raise UpstreamRejected(
                self.name, f"{operation}: HTTP {response.status_code} without a SOAP reply"
            ) from None
        body = envelope.find(_BODY)
        first = body[0] if body is not None and len(body) else None
        if first is None:
            raise UpstreamRejected(self.name, f"{operation}: empty SOAP body")
        if first.tag == _FAULT:
            raise self._fault(operation, first)
        if response.status_code >= 400:
            raise UpstreamUnavailable(self.name, f"{operation}: HTTP {response.status_code}")
        return first

    def _fault(self, operation: str, fault: Any) -> BridgeError:
        code = (fault.findtext("faultcode") or "").strip()
        text = (fault.findtext("faultstring") or "").strip()[:200]
        local = code.rpartition(":")[2]
        if local.startswith("Client"):
            return UpstreamRejected(self.name, f"{operation}: refused ({local}): {text}")
        return UpstreamUnavailable(self.name, f"{operation}: server fault ({local}): {text}")
