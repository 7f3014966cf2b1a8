"""WS-Security UsernameToken (OASIS Username Token Profile 1.0/1.1), the SOAP doors' credential.

    <wsse:Security>
      <wsse:UsernameToken>
        <wsse:Username>cl_0123456789abcdef</wsse:Username>      the client id
        <wsse:Password Type="...#PasswordDigest">Base64(SHA-1(nonce + created + password))</...>
        <wsse:Nonce EncodingType="...#Base64Binary">at least 16 random bytes, base64</wsse:Nonce>
        <wsu:Created>2026-05-04T10:00:00Z</wsu:Created>
      </wsse:UsernameToken>
      <wsu:Timestamp><wsu:Expires>...</wsu:Expires></wsu:Timestamp>   optional
    </wsse:Security>

The password is the client's WS-Security password (`bridge clients wss-password ID`), not its
client secret: the server must recompute the digest, so it keeps this password readable
(sealed, `bridge.security.sealing`) while the client secret stays an argon2 hash that nothing
can turn back into the secret. A leak of the sealed passwords and the key together gives away
SOAP access, never the token endpoint.

What is checked, as WSS4J does by default (DESIGN.md):

- a PasswordDigest needs a Nonce (base64, at least 16 bytes) and a Created; Created must lie
  within `window` in the past and at most `skew` in the future: `ExpiredToken` otherwise;
- the nonce is remembered for `window + skew` per client (`bridge.security.nonces`, shared by
  every node): a second use is `ReplayedNonce`. It is recorded only once the digest is right,
  so a forger cannot use up nonces of a real client;
- a PasswordText (the password itself in the message) only when `password_text` is on; its
  Created and Nonce, if sent, are checked the same way;
- a `wsu:Timestamp` whose Expires has passed is `ExpiredToken`.

Anything else wrong (unknown or disabled client, no WS-Security password, a wrong digest, a
malformed token) is one `InvalidToken` that does not say which. Only stale and replayed tokens
are told apart, because the caller can act on those (fix its clock, make a new token).

The verifier reads the `wsse:Security` header element that the SOAP gateway has already parsed
with the hardened parser (no DOCTYPE, no entities), and only walks it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from bridge.domain.clock import Clock, utcnow
from bridge.domain.errors import ExpiredToken, InvalidToken, MissingCredentials
from bridge.security.clients import ApiClient
from bridge.security.nonces import NonceStore, build_nonce_store
from bridge.settings import Settings

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = f"{PROFILE_NS}#PasswordDigest"
PASSWORD_TEXT = f"{PROFILE_NS}#PasswordText"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
# Clark name of the header, for the gateway's `understood_headers` (mustUnderstand="1").
SECURITY = f"{{{WSSE}}}Security"
USERNAME_TOKEN = f"{{{WSSE}}}UsernameToken"
_USERNAME = f"{{{WSSE}}}Username"
_PASSWORD = f"{{{WSSE}}}Password"
_NONCE = f"{{{WSSE}}}Nonce"
_CREATED = f"{{{WSU}}}Created"
_TIMESTAMP = f"{{{WSU}}}Timestamp"
_EXPIRES = f"{{{WSU}}}Expires"

DEFAULT_WINDOW = timedelta(seconds=300)
DEFAULT_SKEW = timedelta(seconds=60)
MIN_NONCE_BYTES = 16
MAX_NONCE_BYTES = 256
MAX_USERNAME = 64
SHA1_BYTES = 20
# xsd:dateTime with a zone; a Created without one could mean any time at all.
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.ASCII
)

REFUSED = "the UsernameToken was refused"
STALE = "the UsernameToken's Created is outside the accepted time window; check the clock"
EXPIRED = "the Security header's Timestamp has expired"


class WssCredentials(Protocol):
    """What the verifier needs of the client registry (`ClientRegistry.wss_credentials`)."""

    def wss_credentials(self, client_id: str) -> tuple[ApiClient, str] | None: ...


@dataclass(eq=False)
class UsernameTokenVerifier:
    """`nonces` must remember them at least `window + skew`."""

    credentials: WssCredentials
    nonces: NonceStore
    _: KW_ONLY
    window: timedelta = DEFAULT_WINDOW
    skew: timedelta = DEFAULT_SKEW
    password_text: bool = False
    clock: Clock = utcnow
    # Compared against when the client is unknown, so that case does the same work.
    _decoy: str = field(init=False, default_factory=lambda: secrets.token_urlsafe(24))

    def verify(self, security: Any | None) -> ApiClient:
        """The active client whose UsernameToken is in `security` (the `wsse:Security` header
        element, or None when the request has none). See the module docstring for the errors."""
        if security is None:
            raise MissingCredentials("a WS-Security UsernameToken is required")
        now = self.clock()
        self._check_timestamp(security, now)
        tokens = security.findall(USERNAME_TOKEN)
        if not tokens:
            raise MissingCredentials("a WS-Security UsernameToken is required")
        if len(tokens) > 1:
            raise InvalidToken("one UsernameToken per Security header")
        token = _read_token(tokens[0])
        if token.digest and (token.nonce is None or token.created is None):
            raise InvalidToken("a PasswordDigest needs a Nonce and a Created")
        if not token.digest and not self.password_text:
            raise InvalidToken("PasswordText is not accepted here: send a PasswordDigest")
        if token.created is not None:
            self._check_fresh(token.created[1], now)
        found = self.credentials.wss_credentials(token.username)
        client, password = (None, self._decoy) if found is None else found
        if not token.matches(password) or client is None or not client.active:
            raise InvalidToken(REFUSED)
        if token.nonce is not None:
            self.nonces.remember(client.id, token.nonce)
        return client

    def _check_fresh(self, created: datetime, now: datetime) -> None:
        if not now - self.window <= created <= now + self.skew:
            raise ExpiredToken(STALE)

    def _check_timestamp(self, security: Any, now: datetime) -> None:
        stamps = security.findall(_TIMESTAMP)
        if len(stamps) > 1:
            raise InvalidToken("one Timestamp per Security header")
        expires = None if not stamps else stamps[0].find(_EXPIRES)
        if expires is not None and _datetime(expires.text) < now:
            raise ExpiredToken(EXPIRED)


@dataclass(frozen=True, slots=True)
class _Token:
    """A UsernameToken as read: who, the password field, and the optional nonce and Created
    (the Created as sent, since the digest covers its text, and as a time)."""

    username: str
    password: str
    digest: bool
    nonce: bytes | None
    created: tuple[str, datetime] | None

    def matches(self, secret: str) -> bool:
        """Constant time in the compared bytes, whichever kind of password was sent."""
        if not self.digest:
            return hmac.compare_digest(self.password.encode(), secret.encode())
        try:
            sent = base64.b64decode(_compact(self.password), validate=True)
        except (binascii.Error, ValueError):
            return False
        assert self.nonce is not None
        assert self.created is not None
        # SHA-1 because the profile says so; what it protects is a fresh nonce, not a stored hash.
        expected = hashlib.sha1(  # noqa: S324
            self.nonce + self.created[0].encode() + secret.encode()
        ).digest()
        return len(sent) == SHA1_BYTES and hmac.compare_digest(sent, expected)


def _read_token(token: Any) -> _Token:
    username = _only(token, _USERNAME)
    password = _only(token, _PASSWORD)
    if username is None or password is None:
        raise InvalidToken("a UsernameToken needs a Username and a Password")
    name = (username.text or "").strip()
    if not name or len(name) > MAX_USERNAME:
        raise InvalidToken(REFUSED)
    kind = password.get("Type", PASSWORD_TEXT)  # the profile's default
    if kind not in (PASSWORD_DIGEST, PASSWORD_TEXT):
        raise InvalidToken("the Password Type must be PasswordDigest or PasswordText")
    nonce_element = _only(token, _NONCE)
    created_element = _only(token, _CREATED)
    nonce = None if nonce_element is None else _nonce(nonce_element)
    created = None
    if created_element is not None:
        text = (created_element.text or "").strip()
        created = (text, _datetime(text))
    text = password.text or ""
    return _Token(
        name,
        text.strip() if kind == PASSWORD_DIGEST else text,
        kind == PASSWORD_DIGEST,
        nonce,
        created,
    )


def _nonce(element: Any) -> bytes:
    if element.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
        raise InvalidToken("the Nonce must be Base64Binary")
    try:
        nonce = base64.b64decode(_compact(element.text or ""), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidToken("the Nonce is not base64") from None
    if not MIN_NONCE_BYTES <= len(nonce) <= MAX_NONCE_BYTES:
        raise InvalidToken(f"the Nonce must be {MIN_NONCE_BYTES} to {MAX_NONCE_BYTES} bytes")
    return nonce


def _only(parent: Any, tag: str) -> Any | None:
    found = parent.findall(tag)
    if len(found) > 1:
        raise InvalidToken(f"a UsernameToken has one {tag.rpartition('}')[2]}")
    return found[0] if found else None


def _datetime(text: str | None) -> datetime:
    value = (text or "").strip()
    if not _DATETIME.fullmatch(value):
        raise InvalidToken("a WS-Security time must be an xsd:dateTime with a time zone")
    try:
        return datetime.fromisoformat(_to_micro(value))
    except ValueError:
        raise InvalidToken("a WS-Security time must be an xsd:dateTime with a time zone") from None


def _to_micro(value: str) -> str:
    """Python reads at most 6 decimals of a second; xsd:dateTime allows more."""
    head, dot, rest = value.partition(".")
    if not dot:
        return value
    digits = re.match(r"\d+", rest)
    assert digits is not None
    return f"{head}.{digits.group()[:6]}{rest[digits.end() :]}"


def _compact(text: str) -> str:
    """Base64 as sent, without the line breaks and spaces XML lets in."""
    return "".join(text.split())


def find_security(headers: Iterable[Any] | None) -> Any | None:
    """The `wsse:Security` element among a request's SOAP header elements, or None."""
    found = [header for header in headers or () if header.tag == SECURITY]
    if len(found) > 1:
        raise InvalidToken("one WS-Security header per message")
    return found[0] if found else None


def claimed_username(headers: Iterable[Any] | None) -> str | None:
    """The Username (a client id) a request's one UsernameToken claims, unchecked, or None
    when there is no such single token: what the guessing throttle counts refusals under."""
    found = [
        (username.text or "").strip()
        for header in headers or ()
        if header.tag == SECURITY
        for token in header.findall(USERNAME_TOKEN)
        for username in token.findall(_USERNAME)
    ]
    if len(found) != 1 or not found[0] or len(found[0]) > MAX_USERNAME:
        return None
    return found[0]


def build_wss_verifier(
    settings: Settings, engine: Engine, registry: WssCredentials
) -> UsernameTokenVerifier:
    """The verifier of this process: its nonces in Redis when `redis_url` is set, else in the
    database; window, skew and PasswordText from the settings."""
    window = timedelta(seconds=settings.wss_window)
    skew = timedelta(seconds=settings.wss_clock_skew)
    return UsernameTokenVerifier(
        registry,
        build_nonce_store(settings.redis_url, engine, window + skew),
        window=window,
        skew=skew,
        password_text=settings.wss_password_text,
    )
