"""The SOAP pass-through of an imported service: partners keep their SOAP clients, the bridge
becomes their gateway. A plain WSGI app (lxml, no spyne: nothing here is mapped, the Body child
is checked and forwarded as it is), mounted at `/soap/services/<name>`:

    GET  ?wsdl              the imported WSDL, only the served port left, its address ours
    GET  ?xsd=<path>        a file the WSDL imports or includes (path relative to the WSDL's
                            folder), its own imports pointed here too
    POST                    a SOAP 1.1 or 1.2 call, as the served port's binding says

A call passes, cheapest first: the media type of the binding's SOAP version; a body within the
size limit (`bridge.soap.gateway.request_body`); the hardened parse (no DOCTYPE, no entity, the
element and depth limits); an Envelope of the binding's version with one Body child; the
operation, picked by the Body child (and by SOAPAction when several operations take the same
element; a SOAPAction naming another operation than the body is refused); headers marked
mustUnderstand that this door processes (WS-Security, and the headers the operation declares);
the caller, by WS-Security UsernameToken or an HTTP credential, through `admit()` (the
operation's scope or the service's, the import file's tiers, the caller's rate limit); the Body
child and the declared headers valid against the contract's XSD. Then the service forwards
them (`ImportedServices.forward`) and the reply's Body child, valid against the contract too,
is answered in an envelope of the same version.

Headers (`forwarded_headers`): only those the operation's binding declares (`soap:header`,
`Operation.headers`) reach the upstream, each checked against the XSD like the body. The
WS-Security header is the bridge's own credential, checked here and never passed on; any other
header is dropped (after the mustUnderstand check: one this door does not understand is a
MustUnderstand fault, never silently ignored).

Errors are faults of the request's SOAP version with the spyne doors' mapping
(`bridge.soap.faults.soap_fault`, `fault_status`): Client (1.2: Sender) for the caller's fault,
Server (Receiver) otherwise, 401/403/429/413/503 said in HTTP too. A fault the contract declares,
answered by the upstream, is passed on as that fault, its detail rebuilt by the fault's codec.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from lxml import etree

from bridge.contracts.model import Operation
from bridge.contracts.published import asked_document, served_documents
from bridge.domain.errors import BridgeError, InvalidInput, UpstreamFault
from bridge.mapping import xml
from bridge.observability.audit import current_source
from bridge.observability.correlation import correlation_id
from bridge.observability.metrics import OPERATION_KEY
from bridge.security.admission import admit
from bridge.security.wssecurity import SECURITY as WSSE_SECURITY
from bridge.security.wssecurity import claimed_username
from bridge.services.imported import ImportedServices, Service
from bridge.soap.faults import (
    FAULT_KEY,
    FAULT_NS,
    InvalidField,
    MustUnderstand,
    fault_status,
    soap_fault,
)
from bridge.soap.gateway import MAX_BODY_BYTES, request_body, soap_principal
from bridge.upstream.envelopes import (
    XML_CONTENT,
    content_type,
    fault_envelope,
    open_envelope,
    requested_action,
)
from bridge.upstream.transport import SOAP11, SOAP12, VERSIONS, SoapVersion
from bridge.wsgi import reply as _reply

if TYPE_CHECKING:
    from bridge.security import Security

log = logging.getLogger(__name__)
_NEXT = {
    SOAP11.envelope: "http://schemas.xmlsoap.org/soap/actor/next",
    SOAP12.envelope: "http://www.w3.org/2003/05/soap-envelope/role/next",
}
DOOR = "soap"
MOUNT = "/soap/services"


@dataclass(frozen=True)
class _Call:
    version: SoapVersion
    headers: list[Any]  # the header entries to forward (declared, checked)
    body: Any
    operation: Operation


class PassThrough:
    """WSGI app of one imported service's SOAP pass-through (see the module docstring)."""

    def __init__(
        self,
        service: Service,
        services: ImportedServices,
        security: Security,
        *,
        base_url: str,
        max_body_bytes: int = MAX_BODY_BYTES,
        xml_limits: xml.XmlLimits = xml.LIMITS,
    ) -> None:
        self.service = service
        self.services = services
        self.security = security
        self.address = f"{base_url.rstrip('/')}{MOUNT}/{service.name}"
        self.max_body_bytes = max_body_bytes
        self.xml_limits = xml_limits
        contract = service.imported.contract
        self.version = VERSIONS[contract.port.soap_version]
        self.documents = served_documents(contract, self.address)
        self._by_element: dict[str, list[Operation]] = {}
        for operation in contract.operations.values():
            self._by_element.setdefault(operation.input.element, []).append(operation)
        self._access = {
            name: security.scopes.allow(service.scope(name), service.tiers)
            for name in contract.operations
        }

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") not in ("", "/"):
            return _reply(start_response, "404 Not Found", "text/plain", b"Not Found\n")
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST":
            return self._post(environ, start_response)
        if method in ("GET", "HEAD"):
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            document = asked_document(self.documents, query)
            if document is not None:
                body = b"" if method == "HEAD" else document
                return _reply(start_response, "200 OK", XML_CONTENT, body, length=len(document))
        return _reply(
            start_response,
            "405 Method Not Allowed" if method not in ("GET", "HEAD") else "404 Not Found",
            "text/plain",
            b"POST a SOAP request, or GET ?wsdl\n",
            extra=[("Allow", "GET, HEAD, POST")],
        )

    def _post(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        version, operation = self.version, ""
        try:
            call = self._checked(environ)
            version, operation = call.version, call.operation.name
            reply = self.services.forward(
                self.service.name,
                call.operation.name,
                call.body,
                headers=call.headers,
                correlation_id=correlation_id(environ) or None,
            )
        except Exception as error:
            if not isinstance(error, BridgeError):
                log.exception("the SOAP pass-through failed (%s)", correlation_id(environ))
            return self._refuse(environ, start_response, error, version, operation)
        if reply is None:
            return _reply(start_response, "202 Accepted", version.content_type, b"")
        payload = version.envelope_of(etree.tostring(reply, encoding="UTF-8"))
        return _reply(start_response, "200 OK", content_type(version), payload)

    def _checked(self, environ: dict[str, Any]) -> _Call:
        version = self.version
        action = requested_action(environ, version)
        envelope = xml.parse(request_body(environ, self.max_body_bytes), self.xml_limits)
        headers, body = open_envelope(envelope, version)
        operation = self._operation(body, action)
        check_headers(headers, version, understood=operation.headers)
        environ[OPERATION_KEY] = f"{self.service.name}.{operation.name}"
        admit(
            self.security,
            self._access[operation.name],
            door=DOOR,
            source=current_source() or environ.get("REMOTE_ADDR"),
            caller=environ,
            authenticate=lambda: soap_principal(self.security, environ, headers),
            claimed=claimed_username(headers),
            operation=f"the operation {operation.name}",
        )
        validator = self.service.imported.contract.schema.validator
        violation = validator.violation(body)
        if violation is not None:
            raise InvalidField(violation.field, violation.reason)
        forwarded = forwarded_headers(headers, operation)
        for header in forwarded:
            violation = validator.violation(header_content(header, version))
            if violation is not None:
                field = violation.field or etree.QName(header).localname
                raise InvalidField(f"Header/{field}", violation.reason)
        return _Call(version, forwarded, body, operation)

    def _operation(self, body: Any, action: str | None) -> Operation:
        candidates = self._by_element.get(body.tag, [])
        if not candidates:
            name = etree.QName(body).localname
            raise InvalidField(name, "not a request element of this service")
        if action:
            named = [op for op in candidates if op.soap_action == action]
            if named:
                return named[0]
            if any(op.soap_action for op in candidates):
                raise InvalidInput(
                    f"SOAPAction {action!r} does not name the operation of the body "
                    f"({', '.join(op.name for op in candidates)})"
                )
        if len(candidates) > 1:
            raise InvalidInput(
                "several operations take this body element; name one in SOAPAction: "
                + ", ".join(repr(op.soap_action) for op in candidates)
            )
        return candidates[0]

    def _refuse(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        error: Exception,
        version: SoapVersion,
        operation: str,
    ) -> Iterable[bytes]:
        cid = correlation_id(environ)
        if isinstance(error, UpstreamFault):
            code, payload = self._declared_fault(error, version, operation)
        else:
            fault = soap_fault(error, cid)
            code = fault.faultcode
            payload = fault_envelope(
                version,
                code,
                fault.faultstring,
                fault_info(fault.kind, cid, fault.field, fault.reason, fault.retry_after),
            )
        environ[FAULT_KEY] = code
        status, extra = fault_status(error)
        return _reply(start_response, status, content_type(version), payload, extra=extra)

    def _declared_fault(
        self, error: UpstreamFault, version: SoapVersion, operation: str
    ) -> tuple[str, bytes]:
        """The upstream's declared fault, as the contract declares it: its detail rebuilt from
        the JSON it was read into (the codec's JSON <-> XML round trip is exact)."""
        code = "Client" if error.sender else "Server"
        detail: list[Any] = []
        codec = self.service.imported.codecs.get((operation, error.fault))
        if codec is not None:
            try:
                detail.append(codec.write(error.content))
            except BridgeError:
                log.warning("a %s fault's detail could not be written back", error.fault)
        return code, fault_envelope(version, code, error.fault, detail)


def check_headers(
    headers: list[Any], version: SoapVersion, understood: Collection[str] = ()
) -> None:
    """A MustUnderstand fault for a header addressed to this door and marked mustUnderstand
    that it does not process: all but WS-Security and the operation's declared ones
    (`understood`, Clark names), which it checks and forwards."""
    ns = version.envelope
    role = "actor" if version is SOAP11 else "role"
    for header in headers:
        if (
            header.get(f"{{{ns}}}mustUnderstand") in ("1", "true")
            and header.get(f"{{{ns}}}{role}", _NEXT[ns]) == _NEXT[ns]
            and header.tag != WSSE_SECURITY
            and header.tag not in understood
        ):
            raise MustUnderstand(
                f"the header {etree.QName(header).localname} is marked mustUnderstand "
                "but is not processed by this service"
            )


def forwarded_headers(headers: list[Any], operation: Operation) -> list[Any]:
    """The header entries that go on to the upstream: those the operation declares, in the
    order sent. WS-Security is the bridge's (never forwarded: the upstream has its own
    credentials, and a partner's token must not leave the gateway); the rest are dropped."""
    declared = set(operation.headers)
    return [header for header in headers if header.tag in declared and header.tag != WSSE_SECURITY]


def header_content(header: Any, version: SoapVersion) -> Any:
    """A copy of a header entry without the SOAP attributes on it (mustUnderstand, actor or
    role, relay, encodingStyle): they belong to the envelope, not to the contract's element,
    whose XSD would refuse them."""
    ns = f"{{{version.envelope}}}"
    stripped = copy.deepcopy(header)
    for name in [name for name in stripped.attrib if name.startswith(ns)]:
        del stripped.attrib[name]
    return stripped


def fault_info(
    kind: str, cid: str, field: str | None, reason: str | None, retry_after: int | None
) -> list[Any]:
    """The bridge's own detail (namespace urn:bridge:fault:v1, outside the contract): the
    error's kind, the correlation id, the field and reason of a refusal, the seconds to wait."""
    info = etree.Element(f"{{{FAULT_NS}}}FaultInfo", nsmap={"bf": FAULT_NS})
    etree.SubElement(info, f"{{{FAULT_NS}}}Kind").text = kind
    if cid:
        etree.SubElement(info, f"{{{FAULT_NS}}}CorrelationId").text = cid
    if field:
        etree.SubElement(info, f"{{{FAULT_NS}}}Field").text = field
    if reason:
        etree.SubElement(info, f"{{{FAULT_NS}}}Reason").text = reason
    if retry_after is not None:
        etree.SubElement(info, f"{{{FAULT_NS}}}RetryAfter").text = str(retry_after)
    return [info]


def passthrough_apps(
    services: ImportedServices,
    security: Security,
    *,
    base_url: str,
    max_body_bytes: int,
    xml_limits: xml.XmlLimits,
) -> dict[str, PassThrough]:
    """The pass-through of every imported service, by mount path."""
    return {
        f"{MOUNT}/{service.name}": PassThrough(
            service,
            services,
            security,
            base_url=base_url,
            max_body_bytes=max_body_bytes,
            xml_limits=xml_limits,
        )
        for service in services
    }
