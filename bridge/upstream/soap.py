"""One upstream SOAP system behind one object, built once at start-up.

zeep loads the checked-in contract (never a URL a caller supplied), checks the binding and knows
each operation's SOAPAction; its `Transport` owns the pooled HTTP session and the timeouts. The
message bodies are written and read by the compiled mappings: zeep's own reply parsing costs
about 12x a hardened lxml parse + walk (DESIGN.md, pitfalls), and the mapping is the one place
where vocabularies are translated.

Only a SOAP Client fault is a "no" (`UpstreamRejected`). Once a message may have reached the
upstream, anything else that is not a readable reply (a timeout, a dropped connection, HTTP 5xx,
a Server fault, an HTML page, an empty, truncated or unreadable body) is `OutcomeUnknown`: the
message may have been applied, and the caller settles that by asking (core banking's
InquirePayment) or by sending again under the same idempotency key, never by guessing. A message
that was never sent (its mapping failed, the connection was refused) is not unknown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from zeep import Client, Settings
from zeep.transports import Transport

from bridge.domain.errors import (
    BridgeError,
    ConfigurationError,
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.mapping import Mappings, xml
from bridge.mapping.validation import ContractSchema
from bridge.observability import metrics
from bridge.observability.logging import current_correlation_id

log = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE_OPEN = (
    f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
)
_ENVELOPE_CLOSE = "</soap:Body></soap:Envelope>"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"
# No reply of the upstream contracts comes near this; a longer one is not read to its end.
MAX_REPLY_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


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
    session: requests.Session | None = None,
) -> SoapUpstream:
    from bridge.mapping.schemas import file_validator

    return SoapUpstream(
        name,
        contract,
        address,
        mappings,
        operations,
        timeout=timeout,
        session=session,
        schema=file_validator(contract),
    )


def pooled_session(
    pool_size: int = 32, headers: Mapping[str, str] | None = None
) -> requests.Session:
    """`headers` go out on every call (this process's simulator secret, `bridge.sims.server`)."""
    session = requests.Session()
    session.headers.update(headers or {})
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
        schema: ContractSchema | None = None,
    ) -> None:
        self.name = name
        self.address = address
        self._timeout = timeout
        self._transport = Transport(
            session=session or pooled_session(), timeout=timeout, operation_timeout=timeout
        )
        client = Client(str(contract), transport=self._transport, settings=hardened_settings())
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
        self._schema = schema

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
        # The Transport's pooled session, streamed: requests' timeout bounds each wait for bytes,
        # not their sum, so the whole reply is read here against one deadline.
        deadline = time.monotonic() + self._timeout
        try:
            response = self._transport.session.post(
                self.address, data=envelope, headers=headers, timeout=self._timeout, stream=True
            )
        except requests.RequestException as exc:
            raise self._not_answered(operation, exc) from None
        try:
            content = self._read(operation, response, deadline)
        finally:
            response.close()
        reply = self._reply_body(operation, response.status_code, content)
        try:
            return self._mappings[op.response].read(reply)
        except BridgeError as exc:
            raise OutcomeUnknown(
                self.name, f"{operation}: a reply that cannot be read ({exc.detail[:200]})"
            ) from None

    def _not_answered(self, operation: str, exc: requests.RequestException) -> BridgeError:
        """No reply at all. Only a connection never made means the message was not sent."""
        if isinstance(exc, requests.ConnectTimeout) or _refused(exc):
            return UpstreamUnavailable(
                self.name, f"{operation}: not sent, no connection ({type(exc).__name__})"
            )
        if isinstance(exc, requests.Timeout):
            return UpstreamTimeout(self.name, f"{operation}: no answer in time")
        return OutcomeUnknown(self.name, f"{operation}: connection failed ({type(exc).__name__})")

    def _read(self, operation: str, response: requests.Response, deadline: float) -> bytes:
        """The whole body, by `deadline` and within `MAX_REPLY_BYTES` (a reply dripping in a
        byte at a time would otherwise hold the caller for as long as the upstream likes)."""
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise OutcomeUnknown(
                        self.name, f"{operation}: a reply longer than {MAX_REPLY_BYTES} bytes"
                    )
                chunks.append(chunk)
                if time.monotonic() > deadline and response.raw.length_remaining != 0:
                    raise UpstreamTimeout(
                        self.name, f"{operation}: the reply did not arrive whole in time"
                    )
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            raise UpstreamTimeout(self.name, f"{operation}: the reply stopped coming") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise OutcomeUnknown(
                self.name, f"{operation}: the reply broke off ({type(exc).__name__})"
            ) from None
        return b"".join(chunks)

    def _reply_body(self, operation: str, status: int, content: bytes) -> Any:
        """The reply element of a SOAP answer; `UpstreamRejected` for a Client fault, and
        `OutcomeUnknown` for anything else that does not carry a reply."""
        try:
            envelope = xml.parse(content)
        except BridgeError:
            shown = "an empty body" if not content.strip() else "a body that is not SOAP XML"
            raise OutcomeUnknown(self.name, f"{operation}: HTTP {status} with {shown}") from None
        body = envelope.find(_BODY) if envelope.tag == _ENVELOPE else None
        if body is None:
            raise OutcomeUnknown(self.name, f"{operation}: HTTP {status} without a SOAP envelope")
        first = body[0] if len(body) else None
        if first is None:
            raise OutcomeUnknown(self.name, f"{operation}: HTTP {status} with an empty SOAP body")
        if first.tag == _FAULT:
            raise self._fault(operation, first)
        if status >= 400:
            raise OutcomeUnknown(self.name, f"{operation}: HTTP {status}")
        return first

    def _fault(self, operation: str, fault: Any) -> BridgeError:
        """A Client fault is the upstream's "no"; any other (Server, or none) says nothing about
        whether the message was applied."""
        code = (fault.findtext("faultcode") or "").strip()
        text = (fault.findtext("faultstring") or "").strip()[:200]
        local = code.rpartition(":")[2]
        if local == "Client" or local.startswith("Client."):
            return UpstreamRejected(self.name, f"{operation}: refused ({local}): {text}")
        return OutcomeUnknown(self.name, f"{operation}: server fault ({local}): {text}")


def _refused(exc: requests.RequestException) -> bool:
    """The request was never sent: a bad address, or the connection could not be opened."""
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return True  # MissingSchema and InvalidURL alike: nothing left this process
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    return isinstance(cause, urllib3.exceptions.NewConnectionError)
