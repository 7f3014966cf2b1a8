"""SOAP 1.1 faults: the one translation of the bridge's errors into faults, and their wire form.

`soap_fault` is the only place where an error becomes a fault (STYLE.md: each door translates the
error tree of `bridge.domain.errors` in exactly one function):

    error                                    faultcode          detail
    VersionMismatch (not a 1.1 envelope)     VersionMismatch    FaultInfo
    MustUnderstand (a header we ignore)      MustUnderstand     FaultInfo
    InvalidInput: InvalidField (schema),     Client             ValidationFault(Field?, Reason)
      MappingError, KeyReused,                                  + FaultInfo
      HostileDocument, any other
    NotFound, Conflict                       Client             ValidationFault(Field?, Reason)
                                                                + FaultInfo
    AuthenticationFailed (HTTP 401),         Client             ValidationFault(Reason)
      Forbidden (HTTP 403)                                      + FaultInfo
    RateLimited (HTTP 429)                   Client             ... + FaultInfo with RetryAfter
    InProgress (same MsgId still running)    Server             FaultInfo with RetryAfter
    UpstreamUnavailable (HTTP 503)           Server             FaultInfo with RetryAfter
    UpstreamRejected                         Server             FaultInfo
    spyne's own Client faults                Client             ValidationFault(Reason) + FaultInfo
    anything else                            Server             FaultInfo ("internal error")

Client means "do not send this again unchanged", Server "this may work later" (SOAP 1.1, 4.4.1):
so a transfer still being worked on under the same MsgId (`InProgress`) is a Server fault with a
retry hint, not a Client one. The contract declares `tns:ValidationFault` for every operation,
so a typed client (JAX-WS, WCF) gets every Client fault as that declared fault (each contract
declares its own, in its own namespace: `fault_envelope` is told which). `FaultInfo`
(namespace urn:bridge:fault:v1, outside the contract; SOAP 1.1 and WS-I BP allow any element in
`detail`) carries the error's kind, the correlation id and, when waiting helps, the seconds to
wait. Faults carry no stack trace and no internal names: a Server fault says what kind of
trouble it is and which correlation id finds it in the logs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lxml import etree
from spyne import Fault

from bridge.domain.errors import (
    AuthenticationFailed,
    BodyTooLarge,
    Conflict,
    Forbidden,
    InProgress,
    InvalidInput,
    MappingError,
    NotFound,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
    VersionMismatch,
)
from bridge.observability.audit import SOAP_FAULT_KEY
from bridge.security.ratelimit import refusal_headers

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# Where a door leaves the faultcode of its answer ("Client", "Server", ...) for the audit log.
FAULT_KEY = SOAP_FAULT_KEY
BANKING_NS = "urn:bridge:banking:v1"
FAULT_NS = "urn:bridge:fault:v1"
# Seconds a caller is asked to wait before retrying a MsgId that is still being processed.
IN_PROGRESS_RETRY_AFTER = 1
# The contract's ValidationFault: Field is a Max140Text, Reason a Max350Text.
MAX_FIELD = 140
MAX_REASON = 350
# spyne logs every Client fault (with a traceback) at ERROR; a refused request is no server error.
SPYNE_CLIENT_FAULT_LOGGERS = ("spyne.application.client", "spyne.server._base", "spyne.server.wsgi")


class MustUnderstand(InvalidInput):
    """The request has a header addressed to us with mustUnderstand="1" that we do not process."""

    kind = "must-understand"


class InvalidField(InvalidInput):
    """One field of the request breaks the contract; `field` is its element path
    (``TransferFunds/Amt``, ``TransferFunds/Amt/@Ccy``), `reason` says how."""

    kind = "invalid-field"

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class SoapFault(Fault):  # type: ignore[misc]
    """A spyne `Fault` that also knows what goes into its ``detail``."""

    def __init__(
        self,
        code: str,
        text: str,
        *,
        kind: str,
        correlation_id: str,
        field: str | None = None,
        reason: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(faultcode=code, faultstring=text)
        self.kind = kind
        self.correlation_id = correlation_id
        self.field = field
        self.reason = reason  # set on Client faults: the contract's ValidationFault/Reason
        self.retry_after = retry_after


def soap_fault(error: BaseException, correlation_id: str, *, field: str | None = None) -> SoapFault:
    """The fault for `error`. `field`, when known to the caller, names the element at fault
    (the table is in this module's docstring)."""
    if isinstance(error, SoapFault):
        return error
    if isinstance(error, VersionMismatch | MustUnderstand):
        code = "VersionMismatch" if isinstance(error, VersionMismatch) else "MustUnderstand"
        return SoapFault(code, error.detail, kind=error.kind, correlation_id=correlation_id)
    if isinstance(error, InvalidField):
        return _client(error.kind, error.field or field, error.reason, correlation_id)
    if isinstance(error, MappingError):
        reason = error.detail.removeprefix(f"{error.path}: ")
        return _client(error.kind, field or error.path, reason, correlation_id)
    if isinstance(error, InProgress):
        return _server(error.kind, error.detail, correlation_id, IN_PROGRESS_RETRY_AFTER)
    if isinstance(error, UpstreamUnavailable):
        return _server(
            error.kind,
            f"a system behind this service is unavailable; retry in {error.retry_after} s",
            correlation_id,
            error.retry_after,
        )
    if isinstance(error, UpstreamRejected):
        return _server(
            error.kind, "a system behind this service refused the request", correlation_id
        )
    if isinstance(error, InvalidInput | NotFound | Conflict | AuthenticationFailed | Forbidden):
        return _client(error.kind, field, error.detail, correlation_id)
    if isinstance(error, RateLimited):
        fault = _client(error.kind, field, error.detail, correlation_id)
        fault.retry_after = error.retry_after
        return fault
    if isinstance(error, Fault) and str(error.faultcode).split(".")[0] == "Client":
        return _client("invalid-input", field, str(error.faultstring), correlation_id)
    return _server("internal-error", "internal error", correlation_id)


def fault_status(error: BaseException) -> tuple[str, list[tuple[str, str]]]:
    """The HTTP status line and extra headers of the fault answering `error`. SOAP 1.1 sends
    every fault with 500; a refused credential, permission or rate limit is said in HTTP too
    (401 with a challenge, 403, 429 with Retry-After), and so is a body refused unread for its
    size (413: never read as SOAP), and an upstream that is unavailable or left the outcome
    unknown (503 with Retry-After), so gateways and clients that only read the status line
    (and retry on 5xx) do the right thing."""
    if isinstance(error, AuthenticationFailed):
        return "401 Unauthorized", [("WWW-Authenticate", 'Bearer realm="bridge"')]
    if isinstance(error, Forbidden):
        return "403 Forbidden", []
    if isinstance(error, RateLimited):
        return "429 Too Many Requests", list(refusal_headers(error).items())
    if isinstance(error, BodyTooLarge):
        return "413 Content Too Large", []
    if isinstance(error, UpstreamUnavailable):
        return "503 Service Unavailable", [("Retry-After", str(error.retry_after))]
    return "500 Internal Server Error", []


def _client(kind: str, field: str | None, reason: str, correlation_id: str) -> SoapFault:
    field = _xml_text(field)[:MAX_FIELD] if field else None
    reason = _xml_text(reason)[:MAX_REASON] or "invalid request"
    text = f"{field}: {reason}" if field else reason
    return SoapFault(
        "Client", text, kind=kind, correlation_id=correlation_id, field=field, reason=reason
    )


def _server(kind: str, text: str, correlation_id: str, retry_after: int | None = None) -> SoapFault:
    shown = f"{text} (correlation id {correlation_id})" if correlation_id else text
    return SoapFault(
        "Server", shown, kind=kind, correlation_id=correlation_id, retry_after=retry_after
    )


# Characters XML 1.0 cannot carry; a caller's input echoed in a reason may contain them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def fault_envelope(fault: SoapFault, namespace: str = BANKING_NS) -> bytes:
    """The SOAP 1.1 envelope of `fault` (WS-I BP: unqualified faultcode/faultstring/detail).

    `namespace` is the target namespace of the contract the fault answers: every inbound
    contract declares its own ``ValidationFault`` (Field?, Reason) there."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = f"soap:{fault.faultcode}"
    etree.SubElement(element, "faultstring").text = _xml_text(fault.faultstring)
    detail = etree.SubElement(element, "detail")
    if fault.reason is not None:
        default: Any = {None: namespace}  # lxml-stubs do not allow None, the default namespace
        validation = etree.SubElement(detail, f"{{{namespace}}}ValidationFault", nsmap=default)
        if fault.field:
            etree.SubElement(validation, f"{{{namespace}}}Field").text = fault.field
        etree.SubElement(validation, f"{{{namespace}}}Reason").text = fault.reason
    info = etree.SubElement(detail, f"{{{FAULT_NS}}}FaultInfo", nsmap={"bf": FAULT_NS})
    etree.SubElement(info, f"{{{FAULT_NS}}}Kind").text = fault.kind
    if fault.correlation_id:
        etree.SubElement(info, f"{{{FAULT_NS}}}CorrelationId").text = fault.correlation_id
    if fault.retry_after is not None:
        etree.SubElement(info, f"{{{FAULT_NS}}}RetryAfter").text = str(fault.retry_after)
    out: bytes = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return out


class _DropClientFaults(logging.Filter):
    """Drops spyne's log records about Client faults: expected answers, not server errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        fault = record.exc_info[1] if record.exc_info else record.msg
        code = getattr(fault, "faultcode", None) if isinstance(fault, Fault) else None
        return not (isinstance(code, str) and code.split(".")[0] == "Client")


_FILTER = _DropClientFaults()


def quiet_client_faults() -> None:
    """Keep spyne from logging refused requests at ERROR with tracebacks (DESIGN.md, pitfalls).
    Idempotent; called when a SOAP door is built, never at import."""
    for name in SPYNE_CLIENT_FAULT_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
