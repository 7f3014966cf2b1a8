"""The bridge's error hierarchy. Each door (SOAP, REST, sync) turns these into its own wire form
in exactly one place; nothing below a door knows about HTTP status codes or SOAP faults.

    BridgeError
    ├── InvalidInput               the caller sent something we refuse (SOAP Client fault, 4xx)
    │   ├── MappingError           a field has the wrong type, format or value; names its path
    │   ├── VersionMismatch        a SOAP envelope of another version than the door speaks
    │   ├── HostileDocument        DTD, entities, external references, too deep or too large
    │   │   └── BodyTooLarge       more bytes than the door takes, refused unread (HTTP 413)
    │   ├── KeyReused              an idempotency key (or MsgId) reused for a different request
    │   └── UnstorableText         text no database stores (NUL, an unpaired surrogate) reached
    │                              the store: refused there, whatever door it came through
    ├── AuthenticationFailed       a credential is missing or was refused (REST 401)
    │   ├── InvalidToken           an access token or API key is bad, expired or revoked
    │   ├── ReplayedNonce          a WS-Security nonce seen before, or a stale Created
    │   └── OAuthError             the token endpoint refused a request (RFC 6749 section 5.2):
    │       ├── InvalidRequest     malformed: a parameter missing, repeated or unreadable
    │       ├── InvalidClient      unknown client, wrong secret, or a disabled client
    │       ├── InvalidGrant       refresh token unknown, expired, revoked or reused
    │       ├── InvalidScope       a scope the client does not hold
    │       └── UnsupportedGrantType
    ├── Forbidden                  authenticated, but the tier or scope does not allow it (403)
    ├── RateLimited                the caller's plan allows no more calls now (429)
    ├── NotFound                   the named object does not exist (or belongs to someone else)
    ├── Conflict                   the request clashes with the state of the object
    │   └── InProgress             the same idempotency key is still being worked on
    ├── UpstreamError              an upstream system failed
    │   ├── UpstreamUnavailable    transient: retried, queued or answered 503 with Retry-After
    │   │   └── OutcomeUnknown     sent, but no answer that says what happened: ask, never guess
    │   │       └── UpstreamTimeout    no answer in time
    │   └── UpstreamRejected       permanent: the upstream refused the message (a Client fault)
    │       └── UpstreamFault      a fault its contract declares (wsdl:fault), with its detail
    └── ConfigurationError         a bad setting, a bad mapping spec or contract, found at start-up
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose.

    A subclass states what sets it apart as class keywords (``kind``, and for authentication
    failures ``reason`` and ``error``) rather than repeating the attribute lines: `kind` is the
    error's name on the wire (a problem type, a fault detail), `reason` labels
    bridge_auth_failures_total, `error` is the RFC 6749 code of an `OAuthError`."""

    kind = "bridge-error"

    def __init_subclass__(cls, **labels: str) -> None:
        super().__init_subclass__()
        for name, value in labels.items():
            if not hasattr(cls, name):
                raise TypeError(f"{cls.__name__}: {name!r} is not a label of its bases")
            setattr(cls, name, value)

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(BridgeError, kind="invalid-input"): ...


class MappingError(InvalidInput, kind="mapping-error"):
    """A field could not be mapped. `path` names the field in the vocabulary being read or written
    (an XML path such as ``TransferFunds/Dbtr/Acct/IBAN`` or a canonical path such as
    ``debtor.account.iban``), `expected` says what would have been accepted."""

    def __init__(self, path: str, expected: str, got: str | None = None) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{path}: expected {expected}{shown}")

    def under(self, prefix: str) -> MappingError:
        """The same error with `prefix` put in front of its path (used for repeated elements)."""
        return MappingError(f"{prefix}{self.path}", self.expected, self.got)


class VersionMismatch(InvalidInput, kind="version-mismatch"):
    """The request is not an envelope of the SOAP version the door speaks (SOAP 1.2 sent to a
    1.1 door, or the other way round): the SOAP fault of that name."""


class HostileDocument(InvalidInput, kind="hostile-document"): ...


class BodyTooLarge(HostileDocument):
    """Refused before it was read, so answered in HTTP too (413), whatever the door."""


class UnstorableText(InvalidInput, kind="unstorable-text"):
    """The store's last guard (`bridge.store.db`): the doors refuse such text first."""


class KeyReused(InvalidInput, kind="idempotency-key-reused"): ...


class AuthenticationFailed(BridgeError, kind="authentication-failed"):
    """`reason` labels bridge_auth_failures_total: missing, invalid, expired or replayed."""

    reason = "invalid"


class MissingCredentials(
    AuthenticationFailed, kind="authentication-required", reason="missing"
): ...


class InvalidToken(AuthenticationFailed, kind="invalid-token"): ...


class ExpiredToken(InvalidToken, reason="expired"): ...


class ReplayedNonce(AuthenticationFailed, kind="replayed-credentials", reason="replayed"): ...


class OAuthError(AuthenticationFailed, kind="oauth-error"):
    """`error` is the RFC 6749 code; `detail` becomes `error_description`, so it must never say
    which half of a credential was wrong."""

    error = "invalid_request"


class InvalidRequest(OAuthError, error="invalid_request"): ...


class InvalidClient(OAuthError, error="invalid_client"): ...


class InvalidGrant(OAuthError, error="invalid_grant"): ...


class InvalidScope(OAuthError, error="invalid_scope"): ...


class UnsupportedGrantType(OAuthError, error="unsupported_grant_type"): ...


class Forbidden(BridgeError, kind="forbidden"): ...


class RateLimited(BridgeError, kind="rate-limited"):
    """`limit` calls per `window` seconds; `retry_after` seconds until the next one is allowed."""

    def __init__(self, detail: str, *, limit: int, window: int, retry_after: int) -> None:
        super().__init__(detail)
        self.limit = limit
        self.window = window
        self.retry_after = retry_after


class NotFound(BridgeError, kind="not-found"): ...


class Conflict(BridgeError, kind="conflict"): ...


class InProgress(Conflict, kind="in-progress"): ...


class UpstreamError(BridgeError, kind="upstream-error"):
    def __init__(self, upstream: str, detail: str) -> None:
        super().__init__(f"{upstream}: {detail}")
        self.upstream = upstream


class UpstreamUnavailable(UpstreamError, kind="upstream-unavailable"):
    """Try again later. Raised as such when the message did not take effect (never sent, or the
    reply says the upstream could not take it, e.g. core banking's code 91); `OutcomeUnknown`
    when it may have."""

    def __init__(self, upstream: str, detail: str, retry_after: int = 30) -> None:
        super().__init__(upstream, detail)
        self.retry_after = retry_after


class OutcomeUnknown(UpstreamUnavailable):
    """The message may have reached the upstream and been applied, but no answer says so: a
    timeout, a dropped connection, HTTP 5xx, a Server fault, an HTML page, an empty, truncated or
    unreadable reply. Only a SOAP Client fault (or a reply that says "refused") is a no; this is
    settled by asking the upstream (core banking's InquirePayment) or by sending again under the
    same idempotency key, never read as a rejection. On the wire it is an unavailable upstream
    (503 with Retry-After, a Server fault): the caller retries with the same key."""


class UpstreamTimeout(OutcomeUnknown, kind="upstream-timeout"):
    """No (whole) answer within the upstream timeout."""


class UpstreamRejected(UpstreamError, kind="upstream-rejected"):
    """The upstream said no: a SOAP Client fault. Nothing was applied; sending the same message
    again gets the same answer."""


class UpstreamFault(UpstreamRejected, kind="upstream-fault"):
    """The upstream answered with a fault its contract declares (an imported service's
    `wsdl:fault`): an answer, not an outage. `fault` is the fault's name in the contract,
    `content` its detail in the service's JSON form, `sender` whether the upstream blames the
    message (a Client or Sender fault) rather than itself."""

    def __init__(
        self, upstream: str, detail: str, *, fault: str, content: object, sender: bool
    ) -> None:
        super().__init__(upstream, detail)
        self.fault = fault
        self.content = content
        self.sender = sender


class ConfigurationError(BridgeError, kind="configuration-error"): ...
