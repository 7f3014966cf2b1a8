"""The HTTP half of every SOAP upstream call, and what its answer means.

Shared by the clients of the four built-in upstreams (`bridge.upstream.soap`) and of every
imported service (`bridge.upstream.generic`): both post an envelope and must read the same
answers the same way, so the verdicts live here once.

Only a SOAP Client fault (SOAP 1.2: `Sender`) is a "no" (`UpstreamRejected`). Once a message
may have reached the upstream, anything else that is not a readable reply (a timeout, a dropped
connection, HTTP 5xx, a Server fault, an HTML page, an empty, truncated or unreadable body) is
`OutcomeUnknown`. A message that was never sent (the connection was refused, the address is
bad) is `UpstreamUnavailable` and nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

import requests
import urllib3

from bridge.domain.errors import (
    BridgeError,
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.mapping import xml

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
# No reply of the upstream contracts comes near this; a longer one is not read to its end.
MAX_REPLY_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024

# A fault the caller of `reply_body` recognises as its own (a declared wsdl:fault): given the
# fault element and its detail's first element, the error to raise, or None for the default.
FaultReader = Callable[[Any, Any], BridgeError | None]


@dataclass(frozen=True, slots=True)
class SoapVersion:
    """What tells SOAP 1.1 and 1.2 apart on the wire."""

    envelope: str
    content_type: str

    def headers(self, action: str) -> dict[str, str]:
        """The HTTP headers of a request naming `action` (SOAP 1.2 carries it in the media
        type, SOAP 1.1 in SOAPAction)."""
        if self is SOAP12:
            return {"Content-Type": f'{self.content_type}; charset=utf-8; action="{action}"'}
        return {
            "Content-Type": f'{self.content_type}; charset="utf-8"',
            "SOAPAction": f'"{action}"',
        }

    def envelope_of(self, body: bytes, header: bytes = b"") -> bytes:
        """`body` (the serialised Body child) framed as a whole envelope, without a tree;
        `header`, when not empty, the serialised Header entries."""
        return (
            b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="'
            + self.envelope.encode()
            + b'">'
            + (b"<soap:Header>" + header + b"</soap:Header>" if header else b"")
            + b"<soap:Body>"
            + body
            + b"</soap:Body></soap:Envelope>"
        )


SOAP11 = SoapVersion(SOAP11_ENV, "text/xml")
SOAP12 = SoapVersion(SOAP12_ENV, "application/soap+xml")
VERSIONS = {"1.1": SOAP11, "1.2": SOAP12}


@dataclass(eq=False)
class SoapTransport:
    """One upstream's address, pooled session, timeout over the whole call and reply cap."""

    name: str
    address: str
    session: requests.Session
    _: KW_ONLY
    timeout: float
    max_reply_bytes: int = MAX_REPLY_BYTES

    def post(
        self,
        operation: str,
        envelope: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """(HTTP status, the whole reply body), or the error that says what became of the call.
        `timeout`: this operation's own, instead of the upstream's.

        Streamed: requests' timeout bounds each wait for bytes, not their sum, so the whole
        reply is read here against one deadline."""
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        try:
            response = self.session.post(
                self.address, data=envelope, headers=dict(headers), timeout=limit, stream=True
            )
        except requests.RequestException as exc:
            raise self._not_answered(operation, exc) from None
        try:
            return response.status_code, self._read(operation, response, deadline)
        finally:
            response.close()

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
        """The whole body, by `deadline` and within the reply cap (a reply dripping in a byte
        at a time would otherwise hold the caller for as long as the upstream likes)."""
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > self.max_reply_bytes:
                    raise OutcomeUnknown(
                        self.name,
                        f"{operation}: a reply longer than {self.max_reply_bytes} bytes",
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


def reply_body(
    upstream: str,
    operation: str,
    status: int,
    content: bytes,
    *,
    version: SoapVersion = SOAP11,
    declared: FaultReader | None = None,
) -> Any:
    """The reply element of a SOAP answer; `UpstreamRejected` for a Client fault (or what
    `declared` makes of a fault it recognises), `OutcomeUnknown` for anything else that does
    not carry a reply."""
    try:
        envelope = xml.parse(content)
    except BridgeError:
        shown = "an empty body" if not content.strip() else "a body that is not SOAP XML"
        raise OutcomeUnknown(upstream, f"{operation}: HTTP {status} with {shown}") from None
    body = envelope.find(f"{{{version.envelope}}}Body") if _is_envelope(envelope, version) else None
    if body is None:
        raise OutcomeUnknown(upstream, f"{operation}: HTTP {status} without a SOAP envelope")
    elements = [child for child in body if isinstance(child.tag, str)]
    if not elements:
        raise OutcomeUnknown(upstream, f"{operation}: HTTP {status} with an empty SOAP body")
    first = elements[0]
    if first.tag == f"{{{version.envelope}}}Fault":
        raise fault_error(upstream, operation, first, version=version, declared=declared)
    if status >= 400:
        raise OutcomeUnknown(upstream, f"{operation}: HTTP {status}")
    return first


def _is_envelope(root: Any, version: SoapVersion) -> bool:
    return bool(root.tag == f"{{{version.envelope}}}Envelope")


def fault_error(
    upstream: str,
    operation: str,
    fault: Any,
    *,
    version: SoapVersion = SOAP11,
    declared: FaultReader | None = None,
) -> BridgeError:
    """A Client (1.2: Sender) fault is the upstream's "no"; any other (Server, Receiver, or
    none) says nothing about whether the message was applied. A fault `declared` recognises by
    its detail is whatever it says."""
    if version is SOAP12:
        ns = SOAP12_ENV
        text = (fault.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or "").strip()[:200]
        detail = fault.find(f"{{{ns}}}Detail")
    else:
        text = (fault.findtext("faultstring") or "").strip()[:200]
        detail = fault.find("detail")
    if declared is not None and detail is not None:
        entries = [child for child in detail if isinstance(child.tag, str)]
        if entries:
            recognised = declared(fault, entries[0])
            if recognised is not None:
                return recognised
    local = fault_code(fault, version)
    if blames_sender(fault, version):
        return UpstreamRejected(upstream, f"{operation}: refused ({local}): {text}")
    return OutcomeUnknown(upstream, f"{operation}: server fault ({local}): {text}")


def fault_code(fault: Any, version: SoapVersion = SOAP11) -> str:
    """The local name of a fault's code: `Client`, `Server.Busy`; 1.2: `Sender`, `Receiver`."""
    if version is SOAP12:
        ns = SOAP12_ENV
        code = fault.findtext(f"{{{ns}}}Code/{{{ns}}}Value") or ""
    else:
        code = fault.findtext("faultcode") or ""
    local: str = code.strip().rpartition(":")[2]
    return local


def blames_sender(fault: Any, version: SoapVersion = SOAP11) -> bool:
    """Whether the fault's code says the message was at fault (1.1 Client, 1.2 Sender)."""
    client = "Sender" if version is SOAP12 else "Client"
    local = fault_code(fault, version)
    return local == client or local.startswith(f"{client}.")


def _refused(exc: requests.RequestException) -> bool:
    """The request was never sent: a bad address, or the connection could not be opened."""
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return True  # MissingSchema and InvalidURL alike: nothing left this process
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    return isinstance(cause, urllib3.exceptions.NewConnectionError)
