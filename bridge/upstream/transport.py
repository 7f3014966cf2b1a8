"""The HTTP half of every SOAP upstream call, and what its answer means.

Shared by the clients of the four built-in upstreams (`bridge.upstream.soap`) and of every
imported service (`bridge.upstream.generic`): both post an envelope and must read the same
answers the same way, so the verdicts live here once.

Only a SOAP Client fault (SOAP 1.2: `Sender`) is a "no" (`UpstreamRejected`). Once a message
may have reached the upstream, anything else that is not a readable reply (a timeout, a dropped
connection, HTTP 5xx, a Server fault, an HTML page, an empty, truncated or unreadable body) is
`OutcomeUnknown`. A message that was never sent (the connection was refused, the address is
bad) is `UpstreamUnavailable` and nothing more.

The calls go straight through urllib3's connection pools (`UpstreamPool`): requests' own work on
each call (preparing the request, hooks, the cookie jar, its checks of typing Protocols) cost
about as much CPU as all the rest of the HTTP exchange (issue 14).
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import certifi
import urllib3
from urllib3 import HTTPConnectionPool, HTTPResponse, HTTPSConnectionPool, Timeout
from urllib3.util import parse_url
from urllib3.util.ssl_ import create_urllib3_context

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
# The least a wait for more of a reply is given once its deadline has passed: the bytes already
# on their way are read, a reply that stopped coming is given up on at once.
_LEAST_WAIT = 0.001
# What every call asks for besides its own headers (requests asked for the same): a compressed
# reply is inflated as it is read, and the reply cap counts the inflated bytes.
_ACCEPT = {"Accept-Encoding": "gzip, deflate"}

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


class UpstreamPool:
    """Keep-alive HTTP connections to upstream addresses: one urllib3 pool per address (scheme,
    host, port), holding up to `size` idle connections, shared by the threads that call it.

    No retries (a POST sent twice could be applied twice), no redirect followed, no proxy from
    the environment (upstream addresses come from settings), certificates verified against
    certifi's bundle as requests did, or against `ca_certs`. `headers` go out on every call:
    this process's simulator secret (`bridge.sims.server`), so such a pool is only ever handed
    to the clients of that server (`bridge.components.Upstreams`)."""

    def __init__(
        self,
        size: int = 32,
        headers: Mapping[str, str] | None = None,
        *,
        ca_certs: str | Path | None = None,
    ) -> None:
        self.size = size
        self.headers: Mapping[str, str] = MappingProxyType(dict(headers or {}))
        self._ca_certs = ca_certs
        self._pools: dict[tuple[str, str, int], HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def pool(self, scheme: str, host: str, port: int) -> HTTPConnectionPool:
        """The pool of connections to one address (made on first use; nothing connects yet)."""
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    pool = self._pools[key] = self._open(*key)
        return pool

    def _open(self, scheme: str, host: str, port: int) -> HTTPConnectionPool:
        if scheme == "https":
            return HTTPSConnectionPool(
                host,
                port,
                maxsize=self.size,
                block=False,
                retries=False,
                ssl_context=_verified_tls(self._ca_certs),
            )
        return HTTPConnectionPool(host, port, maxsize=self.size, block=False, retries=False)


def pooled_http(
    pool_size: int = 32,
    headers: Mapping[str, str] | None = None,
    *,
    ca_certs: str | Path | None = None,
) -> UpstreamPool:
    """The connections of one upstream's client; `headers` go out on every call."""
    return UpstreamPool(pool_size, headers, ca_certs=ca_certs)


@functools.cache
def _verified_tls(ca_certs: str | Path | None) -> ssl.SSLContext:
    """One TLS context per trust store, made once: loading a CA bundle costs milliseconds, and
    every new HTTPS connection would otherwise pay it."""
    context = create_urllib3_context()  # CERT_REQUIRED; the host name is checked on connect
    context.load_verify_locations(ca_certs or certifi.where())
    return context


@dataclass(eq=False)
class SoapTransport:
    """One upstream's address, its connections, one deadline over the whole call and a reply
    cap."""

    name: str
    address: str
    http: UpstreamPool
    _: KW_ONLY
    timeout: float
    max_reply_bytes: int = MAX_REPLY_BYTES
    _target: tuple[HTTPConnectionPool, str] | str = field(init=False, repr=False)
    _headers: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The address is read once: the pool its calls go through and the path they post to,
        # or why no call can be sent (raised by each call, as "not sent").
        self._target = _target_of(self.http, self.address)
        self._headers = {**_ACCEPT, **self.http.headers}

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

        One deadline bounds the whole call: the connection, sending, the reply's head (urllib3's
        `total`) and then each wait for more of its body, so a reply dripping in a byte at a time
        cannot hold the caller for longer than the deadline."""
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        if isinstance(self._target, str):
            raise UpstreamUnavailable(self.name, f"{operation}: not sent, {self._target}")
        pool, path = self._target
        try:
            response = cast(
                HTTPResponse,
                pool.urlopen(
                    "POST",
                    path,
                    body=envelope,
                    headers={**self._headers, **headers},
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    timeout=Timeout(total=limit),
                    preload_content=False,
                    release_conn=False,
                ),
            )
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            # ValueError: http.client refused a header value (as requests' InvalidHeader did).
            raise self._not_answered(operation, exc) from None
        try:
            content = self._read(operation, response, deadline)
        except BaseException:
            # Whatever is left of a reply not read to its end must not be taken for the next
            # call's: the connection is closed, and goes back to the pool to be opened anew.
            response.close()
            response.release_conn()
            raise
        response.release_conn()  # read whole: kept alive for the next call (no-op if closed)
        return response.status, content

    def _not_answered(self, operation: str, exc: Exception) -> BridgeError:
        """No reply at all. Only a connection never made means the message was not sent."""
        # NewConnectionError (refused, no route, the name not resolved) is a ConnectTimeoutError.
        if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
            return UpstreamUnavailable(
                self.name, f"{operation}: not sent, no connection ({type(exc).__name__})"
            )
        if isinstance(exc, urllib3.exceptions.TimeoutError):
            return UpstreamTimeout(self.name, f"{operation}: no answer in time")
        if refused := _refused_certificate(exc):
            # Verified in the TLS handshake, before a byte of the request is written.
            return UpstreamUnavailable(
                self.name,
                f"{operation}: not sent, the upstream's certificate was refused "
                f"({refused.verify_message or refused.reason})",
            )
        return OutcomeUnknown(self.name, f"{operation}: connection failed ({type(exc).__name__})")

    def _read(self, operation: str, response: HTTPResponse, deadline: float) -> bytes:
        """The whole body, by `deadline` and within the reply cap (a reply dripping in a byte
        at a time would otherwise hold the caller for as long as the upstream likes)."""
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                # Each wait for bytes gets what is left of the deadline, no more.
                connection = response.connection
                if connection is not None and connection.sock is not None:
                    connection.sock.settimeout(max(deadline - time.monotonic(), _LEAST_WAIT))
                chunk = response.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_reply_bytes:
                    raise OutcomeUnknown(
                        self.name,
                        f"{operation}: a reply longer than {self.max_reply_bytes} bytes",
                    )
                chunks.append(chunk)
                if time.monotonic() > deadline and response.length_remaining != 0:
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


def _target_of(http: UpstreamPool, address: str) -> tuple[HTTPConnectionPool, str] | str:
    """The pool and request path of `address`, or what is wrong with it."""
    try:
        url = parse_url(address)
    except urllib3.exceptions.LocationValueError:
        return f"a bad address ({address!r})"
    if url.scheme not in ("http", "https") or not url.host:
        return f"not an http(s) address ({address!r})"
    port = url.port or (443 if url.scheme == "https" else 80)
    return http.pool(url.scheme, url.host, port), url.request_uri


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


def _refused_certificate(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind `exc` (urllib3 wraps it in its SSLError),
    or None."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return error
        pending.extend((*error.args, error.__cause__, error.__context__))
    return None
