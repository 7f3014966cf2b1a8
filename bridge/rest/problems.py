"""How the REST door says what went wrong: RFC 9457 `application/problem+json`.

`problem()` is the one place where an exception becomes a wire error, for the bridge's own
errors (`bridge.domain.errors`), werkzeug's HTTP errors (unknown route, wrong method, wrong media
type) and anything unexpected. Each error kind has a stable `type` URI built from its `kind`, so
clients branch on `type`, never on `detail`, which is for people.

Status codes, by the most specific class in the table below:

    MappingError, HostileDocument, InvalidJson   400  the request could not be read as sent
    UnstorableText                                400  NUL or a lone surrogate reached the store
    InvalidInput                                  422  readable, but refused as a whole
    KeyReused                                     422  an idempotency key or MsgId reused
    AuthenticationFailed                          401  a missing or refused credential, with
                                                       WWW-Authenticate
    Forbidden                                     403  the tier or scope does not allow it
    RateLimited                                   429  with Retry-After and RateLimit-*
    NotFound                                      404
    Conflict, InProgress                          409  InProgress adds Retry-After
    UpstreamUnavailable                           503  with Retry-After
    UpstreamFault                                 422  a fault an imported service's contract
                                                       declares, its own type
                                                       (`.../services/<name>/<Fault>`) and its
                                                       detail as `fault_detail`; 502 when the
                                                       service blames itself (a Server fault)
    UpstreamRejected, UpstreamError               502
    anything else                                 500  no detail beyond the correlation id

400 versus 422: a field that is missing, of the wrong type or format, or does not fit its
currency is a 400 naming the field; a request whose every field is fine but which is refused as a
whole (debtor and creditor are the same account, a key reused for another body) is a 422.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import orjson
from flask import Response, request
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import HTTPException

from bridge.domain.errors import (
    AuthenticationFailed,
    BridgeError,
    Conflict,
    Forbidden,
    HostileDocument,
    InProgress,
    InvalidInput,
    KeyReused,
    MappingError,
    NotFound,
    RateLimited,
    UnstorableText,
    UpstreamError,
    UpstreamFault,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.observability.correlation import ENVIRON_KEY
from bridge.rest.params import UNPRINTABLE
from bridge.security.ratelimit import refusal_headers

PROBLEM_TYPES = "https://bridge.dev/problems/"
MEDIA_TYPE = "application/problem+json"
INTERNAL_ERROR = "internal-error"
# Seconds a caller is asked to wait before retrying a request that is still being worked on.
IN_PROGRESS_RETRY_AFTER = 1
# RFC 6750 3: the scheme a refused request should authenticate with.
CHALLENGE = 'Bearer realm="bridge"'

log = logging.getLogger(__name__)


class InvalidJson(InvalidInput, kind="invalid-json"):
    """The body is not a JSON document at all."""


class InvalidFields(MappingError):
    """Several fields could not be read at once (a REST client gets them all, not the first)."""

    def __init__(self, errors: Sequence[MappingError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.expected, first.got)
        self.errors = list(errors)
        if len(self.errors) > 1:
            self.detail = f"{len(self.errors)} fields are invalid; first {self.detail}"

    @classmethod
    def from_validation(cls, exc: ValidationError, prefix: str = "") -> InvalidFields:
        return cls([_field_error(error, prefix) for error in exc.errors()])


# pydantic's wording where it does not say what would have been accepted.
_EXPECTED = {
    "missing": "a value: the field is required",
    "extra_forbidden": "no such field",
    "unexpected_keyword_argument": "no such field",
}


def _field_error(error: Any, prefix: str) -> MappingError:
    path = prefix + ".".join(str(part) for part in error["loc"])
    message = str(error["msg"])
    expected = _EXPECTED.get(error["type"]) or message[:1].lower() + message[1:]
    value = error.get("input")
    shown = error["type"] != "missing" and value is not None and not isinstance(value, dict | list)
    return MappingError(path or "(body)", expected, _printable(str(value)[:80]) if shown else None)


def _printable(text: str) -> str:
    """`text` with what a parameter may not hold escaped: no JSON encoder emits a surrogate."""
    return UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape").decode(), text)


class FieldError(BaseModel):
    """One field of the request that could not be read."""

    model_config = ConfigDict(extra="forbid")

    path: str
    expected: str
    got: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, with the bridge's correlation id and, for field errors, every
    field that was wrong."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[FieldError] | None = None


# (status, title) by error class; the most specific class of an error's MRO wins.
_STATUS: dict[type[BaseException], tuple[int, str]] = {
    MappingError: (400, "A field could not be read"),
    HostileDocument: (400, "The document was refused as hostile"),
    InvalidJson: (400, "The body is not valid JSON"),
    UnstorableText: (400, "The request holds text that cannot be stored"),
    KeyReused: (422, "The key was already used for another request"),
    InvalidInput: (422, "The request was refused"),
    AuthenticationFailed: (401, "The credentials were refused"),
    Forbidden: (403, "Not allowed for this client"),
    RateLimited: (429, "Too many requests"),
    NotFound: (404, "Not found"),
    InProgress: (409, "The request is still in progress"),
    Conflict: (409, "The request conflicts with the state of the resource"),
    UpstreamUnavailable: (503, "An upstream system is unavailable"),
    UpstreamFault: (422, "The service answered with a fault its contract declares"),
    UpstreamRejected: (502, "An upstream system refused the request"),
    UpstreamError: (502, "An upstream system failed"),
}

_WORDS = re.compile(r"(?<!^)(?=[A-Z])")


def problem(error: BaseException) -> Response:
    """The problem+json response for `error`. The one mapping of errors to the REST wire."""
    headers: dict[str, str] = {}
    fields: list[MappingError] = []
    members: dict[str, Any] = {}
    if isinstance(error, HTTPException) and error.code is not None:
        status = error.code
        kind = _WORDS.sub("-", type(error).__name__).lower()
        title = error.name
        detail = error.description or title
        headers.update((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
    elif isinstance(error, BridgeError) and (known := _known(error)) is not None:
        status, title = known
        kind, detail = error.kind, error.detail
        if isinstance(error, MappingError):
            fields = error.errors if isinstance(error, InvalidFields) else [error]
        if isinstance(error, UpstreamFault):
            kind = f"services/{error.upstream}/{error.fault}"
            status = status if error.sender else 502
            members = {"fault": error.fault, "fault_detail": error.content}
        elif isinstance(error, UpstreamUnavailable):
            headers["Retry-After"] = str(error.retry_after)
        elif isinstance(error, InProgress):
            headers["Retry-After"] = str(IN_PROGRESS_RETRY_AFTER)
        elif isinstance(error, AuthenticationFailed):
            headers["WWW-Authenticate"] = CHALLENGE
        elif isinstance(error, RateLimited):
            headers.update(refusal_headers(error))
    else:
        # A bug or an outage we did not foresee: log it whole, tell the caller nothing but the
        # correlation id that finds the log.
        log.error(
            "unhandled error answering %s %s",
            request.method,
            request.path,
            exc_info=error,
            extra={"correlation_id": _correlation_id()},
        )
        status, kind, title = 500, INTERNAL_ERROR, "Internal error"
        detail = "an unexpected error occurred; quote the correlation id when reporting it"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPES + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if correlation_id := _correlation_id():
        body["correlation_id"] = correlation_id
    if fields:
        body["errors"] = [_field(e) for e in fields]
    body.update(members)
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype=MEDIA_TYPE)


def _known(error: BridgeError) -> tuple[int, str] | None:
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return None


def _field(error: MappingError) -> dict[str, str]:
    shown = {"path": error.path, "expected": error.expected}
    if error.got is not None:
        shown["got"] = error.got
    return shown


def _correlation_id() -> str:
    value: str = request.environ.get(ENVIRON_KEY) or ""
    return value


def invalid_parameters(exc: ValidationError) -> Response:
    """flask-openapi3's hook for path and query parameters that fail their models."""
    return problem(InvalidFields.from_validation(exc))
