"""The WSGI gateway in front of the spyne application of a SOAP 1.1 contract.

    GET  ?wsdl   the checked-in contract, soap:address = the configured public address
    POST         a SOAP 1.1 call, checked here and then handed to spyne

Everything a request must pass before a handler runs happens here, cheapest first, and every
refused call is a SOAP 1.1 fault (`bridge.soap.faults`), with HTTP 500 as SOAP 1.1 says, except
401, 403 and 429 for refused credentials, permissions and rate limits and 413 for a body over
the limit (`fault_status`):

1. ``Content-Type: text/xml`` (``application/soap+xml`` is SOAP 1.2: VersionMismatch);
2. a ``SOAPAction`` header naming an operation of the contract, quoted or not (WS-I BP R2744);
3. a body of at most `max_body_bytes`, by ``Content-Length`` or, for a chunked request, by a
   bounded read: nothing longer is buffered or parsed;
4. the hardened parse of `bridge.mapping.xml`: a DOCTYPE, an entity or deep nesting is refused
   before anything is expanded (spyne would silently drop entity references, DESIGN.md);
5. a SOAP 1.1 Envelope (another Envelope namespace: VersionMismatch) with an optional Header,
   one Body and exactly one element in it; a header for us marked mustUnderstand that this
   door does not process: MustUnderstand;
6. the body element is the request element of the operation the SOAPAction names (spyne
   ignores SOAPAction; OWASP ZAP rule 90026 treats a mismatch as an attack);
7. the caller: a WS-Security UsernameToken in the Header, or an access token or API key in the
   HTTP headers (one of them), must be an active client (401), of a tier and holding the scope
   the operation declares (403; an operation that declares nothing is refused), within its
   rate-limit plan (429). Nobody unauthenticated gets as far as schema validation;
8. the body element is valid against the contract's schema.

The parsed envelope travels to spyne in the environ (`ENVIRON_KEY`), so nothing is parsed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, InitVar, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from lxml import etree

from bridge.domain.errors import (
    BodyTooLarge,
    BridgeError,
    InvalidInput,
    InvalidToken,
    VersionMismatch,
)
from bridge.mapping import xml
from bridge.observability.audit import current_source
from bridge.observability.correlation import correlation_id
from bridge.security.access import Principal
from bridge.security.admission import admit
from bridge.security.wssecurity import SECURITY as WSSE_SECURITY
from bridge.security.wssecurity import claimed_username, find_security
from bridge.soap.faults import (
    FAULT_KEY,
    SOAP_ENV,
    InvalidField,
    MustUnderstand,
    fault_envelope,
    fault_status,
    soap_fault,
)
from bridge.soap.operations import Operation
from bridge.soap.schema import ContractValidator
from bridge.wsgi import reply as _reply

if TYPE_CHECKING:
    from bridge.security import Security

log = logging.getLogger(__name__)
DOOR = "soap"

# The default limit of a request body; a partner's transfer is about 1.5 KB.
MAX_BODY_BYTES = 1_048_576
# A body declared larger than the limit is read and dropped up to this many times the limit, so
# that the client, still sending, reads the fault instead of a reset connection; a body declared
# larger still is refused without reading it.
DRAIN_FACTOR = 4
ENVIRON_KEY = "bridge.soap.request"
XML_CONTENT = "text/xml; charset=utf-8"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP12_CONTENT = "application/soap+xml"
NEXT_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_HEADER = f"{{{SOAP_ENV}}}Header"
_BODY = f"{{{SOAP_ENV}}}Body"
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"
_ACTOR = f"{{{SOAP_ENV}}}actor"
_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """A request that passed the gateway, as spyne's protocol picks it up."""

    envelope: Any
    headers: list[Any] | None  # the Header's child elements (spyne's ``in_header_doc``)
    body: Any  # the one element of the Body
    operation: Operation


@dataclass(eq=False)
class SoapGateway:
    """WSGI middleware: serves the contract and lets only checked SOAP 1.1 calls reach spyne.

    `soap` is spyne's ``WsgiApplication``; the gateway calls its ``handle_rpc`` directly, since
    its ``__call__`` would rebuild the request URL and look for ``?wsdl`` again on every call."""

    soap: Any
    _: KW_ONLY
    wsdl: bytes
    operations: InitVar[Sequence[Operation]]
    validator: ContractValidator
    security: Security
    max_body_bytes: int = MAX_BODY_BYTES
    xml_limits: xml.XmlLimits = xml.LIMITS
    # Clark names of the headers this door processes (WS-Security's ``Security``).
    understood_headers: frozenset[str] = frozenset({WSSE_SECURITY})
    _by_element: dict[str, Operation] = field(init=False)
    _actions: frozenset[str] = field(init=False)
    _namespace: str = field(init=False)

    def __post_init__(self, operations: Sequence[Operation]) -> None:
        """The operations' namespace is the contract's: its ``ValidationFault`` is the detail
        of a refusal."""
        self._by_element = {operation.element: operation for operation in operations}
        self._actions = frozenset(operation.soap_action for operation in operations)
        (self._namespace,) = {operation.namespace for operation in operations}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") not in ("", "/"):
            return _reply(start_response, "404 Not Found", "text/plain", b"Not Found\n")
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST":
            try:
                environ[ENVIRON_KEY] = self._checked_request(environ)
            except BridgeError as exc:
                return self._refuse(environ, start_response, exc)
            except Exception as exc:
                log.exception("the SOAP gateway failed (%s)", correlation_id(environ))
                return self._refuse(environ, start_response, exc)
            rpc: Iterable[bytes] = self.soap.handle_rpc(environ, start_response)
            return rpc
        if method in ("GET", "HEAD") and _asks_for_wsdl(environ.get("QUERY_STRING", "")):
            body = b"" if method == "HEAD" else self.wsdl
            return _reply(start_response, "200 OK", XML_CONTENT, body, length=len(self.wsdl))
        return _reply(
            start_response,
            "405 Method Not Allowed",
            "text/plain",
            b"POST a SOAP 1.1 request, or GET ?wsdl\n",
            extra=[("Allow", "GET, HEAD, POST")],
        )

    def _checked_request(self, environ: dict[str, Any]) -> SoapRequest:
        """The request, checked in the order of this module's docstring, or a `BridgeError`."""
        _check_content_type(environ.get("CONTENT_TYPE", ""))
        action = self._soap_action(environ)
        envelope = xml.parse(self._body(environ), self.xml_limits)
        headers, element = _open_envelope(envelope)
        self._check_headers(headers)
        operation = self._by_element.get(element.tag)
        if operation is None:
            name = etree.QName(element).localname
            raise InvalidField(name, "not a request element of this service")
        if action != operation.soap_action:
            raise InvalidInput(
                f"SOAPAction {action!r} does not name the operation of the body ({operation.name})"
            )
        self._admit(environ, headers, operation)
        self.validator.check(element)
        return SoapRequest(envelope, headers, element, operation)

    def _admit(
        self, environ: dict[str, Any], headers: list[Any] | None, operation: Operation
    ) -> None:
        """Authenticate the caller, check the operation's declaration and the caller's rate
        limit; leave the caller in the environ for the methods, the audit log and metrics."""
        admit(
            self.security,
            operation.access,
            door=DOOR,
            source=current_source() or environ.get("REMOTE_ADDR"),
            caller=environ,
            authenticate=lambda: self._authenticate(environ, headers),
            claimed=claimed_username(headers),
            operation=f"the operation {operation.name}",
        )

    def _authenticate(self, environ: dict[str, Any], headers: list[Any] | None) -> Principal:
        return soap_principal(self.security, environ, headers)

    def _soap_action(self, environ: dict[str, Any]) -> str:
        raw = environ.get("HTTP_SOAPACTION")
        if raw is None:
            raise InvalidInput("a SOAPAction header naming the operation is required")
        action: str = raw.strip()
        if len(action) >= 2 and action[0] == action[-1] == '"':
            action = action[1:-1]
        if action not in self._actions:
            raise InvalidInput(f"SOAPAction {action!r} is not an operation of this service")
        return action

    def _body(self, environ: dict[str, Any]) -> bytes:
        return request_body(environ, self.max_body_bytes)

    def _check_headers(self, headers: list[Any] | None) -> None:
        for header in headers or ():
            if (
                header.get(_MUST_UNDERSTAND) in ("1", "true")
                and header.get(_ACTOR, NEXT_ACTOR) == NEXT_ACTOR
                and header.tag not in self.understood_headers
            ):
                raise MustUnderstand(
                    f"the header {etree.QName(header).localname} is marked mustUnderstand "
                    "but is not processed by this service"
                )

    def _refuse(
        self, environ: dict[str, Any], start_response: Callable[..., Any], error: Exception
    ) -> Iterable[bytes]:
        fault = soap_fault(error, correlation_id(environ))
        environ[FAULT_KEY] = fault.faultcode
        # Kind and field only: a reason may quote the request (account numbers, names).
        log.info(
            "refused a SOAP request (%s): %s %s", fault.correlation_id, fault.kind, fault.field
        )
        status, extra = fault_status(error)
        return _reply(
            start_response,
            status,
            XML_CONTENT,
            fault_envelope(fault, self._namespace),
            extra=extra,
        )


def soap_principal(
    security: Security, environ: dict[str, Any], headers: list[Any] | None
) -> Principal:
    """The caller of a SOAP request (step 7): WS-Security in the SOAP header, or a bearer
    token or API key in the HTTP headers, never both. Shared with `bridge.soap.passthrough`."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    api_key = environ.get("HTTP_X_API_KEY")
    token = find_security(headers)
    if token is None:
        return security.authenticator.http(authorization, api_key)
    if authorization or api_key:
        raise InvalidToken("send WS-Security or an HTTP credential, not both")
    if security.wss is None:
        raise InvalidToken("WS-Security is not enabled on this bridge")
    client = security.wss.verify(token)
    return Principal(client, client.scopes, "ws_security")


def request_body(environ: dict[str, Any], max_body_bytes: int) -> bytes:
    """The request body, at most `max_body_bytes` of it (step 3): by Content-Length, or for a
    chunked request by a bounded read; a longer one is `BodyTooLarge`, never buffered whole.
    Shared with the pass-through of imported services (`bridge.soap.passthrough`)."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not declared.isdigit():
            raise InvalidInput("Content-Length is not a number of bytes")
        length = int(declared)
        if length > max_body_bytes:
            if length <= DRAIN_FACTOR * max_body_bytes:
                _discard(stream, length)
            raise _too_large(length, max_body_bytes)
        body = _read(stream, length)
        if len(body) < length:
            raise InvalidInput("the request body ended before its Content-Length")
        return body
    if environ.get("wsgi.input_terminated"):  # chunked: read no more than the limit allows
        body = _read(stream, max_body_bytes + 1)
        if len(body) > max_body_bytes:
            raise _too_large(None, max_body_bytes)
        return body
    raise InvalidInput("a Content-Length header is required")


def _too_large(length: int | None, max_body_bytes: int) -> BodyTooLarge:
    size = f" ({length} bytes)" if length is not None else ""
    return BodyTooLarge(f"the request body{size} exceeds the limit of {max_body_bytes} bytes")


def _check_content_type(content_type: str) -> None:
    media = content_type.partition(";")[0].strip().lower()
    if media == SOAP12_CONTENT:
        raise VersionMismatch("SOAP 1.2 is not served here; this service speaks SOAP 1.1")
    if media != "text/xml":
        raise InvalidInput(f"Content-Type {media or '(none)'!r} is not text/xml (SOAP 1.1)")


def _open_envelope(root: Any) -> tuple[list[Any] | None, Any]:
    """(the Header's children or None, the one element of the Body) of a SOAP 1.1 Envelope."""
    if root.tag != _ENVELOPE:
        if etree.QName(root).localname == "Envelope":
            version = "SOAP 1.2" if etree.QName(root).namespace == SOAP12_ENV else "unknown"
            raise VersionMismatch(f"the Envelope is not SOAP 1.1 ({version}); SOAP 1.1 only")
        raise InvalidInput("the request is not a SOAP Envelope")
    children = [child for child in root if isinstance(child.tag, str)]
    header = children.pop(0) if children and children[0].tag == _HEADER else None
    if len(children) != 1 or children[0].tag != _BODY:  # WS-I BP R1011: nothing after the Body
        raise InvalidInput("a SOAP Envelope holds an optional Header and one Body, nothing else")
    body = children[0]
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1 or any((text or "").strip() for text in _texts(body)):
        raise InvalidInput("the SOAP Body must hold exactly one element")
    headers = None if header is None else [h for h in header if isinstance(h.tag, str)]
    return headers, elements[0]


def _texts(body: Any) -> Iterable[str | None]:
    yield body.text
    for child in body:
        yield child.tail


def _read(stream: Any, limit: int) -> bytes:
    """Up to `limit` bytes, however the server's input stream splits them."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _discard(stream: Any, length: int) -> None:
    while length > 0:
        chunk = stream.read(min(length, _CHUNK))
        if not chunk:
            return
        length -= len(chunk)


def _asks_for_wsdl(query: str) -> bool:
    return any(name.lower() == "wsdl" for name in parse_qs(query, keep_blank_values=True))
