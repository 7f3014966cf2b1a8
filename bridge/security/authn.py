"""Authentication of an HTTP request, for both doors: a bearer access token or an API key.

    Authorization: Bearer <JWT from POST /oauth/token>
    X-API-Key: bk_<prefix>_<secret>

One credential per request: both at once is refused (which one should win is a question a
caller must not make us answer). The client behind a credential is read from the registry and
must be active, so disabling a client stops its access tokens within `cache_ttl` seconds
instead of at their `exp`; the short cache keeps that read out of most requests.
WS-Security UsernameToken, the SOAP door's own credential, is `bridge.security.wssecurity`.

Framework-free: the doors hand over the header values and get a `Principal` or an
`AuthenticationFailed` (whose `reason` labels bridge_auth_failures_total).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bridge.domain.errors import InvalidToken, MissingCredentials, NotFound
from bridge.security.access import Principal
from bridge.security.clients import ApiClient, ClientRegistry, digest
from bridge.security.tokens import TokenService

BEARER = "bearer"
# Seconds a client read from the registry (or an API key's client) is trusted without reading
# it again: how long a disabled client or revoked key may still get through on this node.
CACHE_TTL = 5.0


class Authenticator:
    def __init__(
        self,
        clients: ClientRegistry,
        tokens: TokenService,
        *,
        cache_ttl: float = CACHE_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.tokens = tokens
        self._ttl = cache_ttl
        self._now = monotonic
        self._lock = threading.Lock()
        self._by_id: dict[str, tuple[float, ApiClient | None]] = {}
        self._by_key: dict[str, tuple[float, ApiClient]] = {}

    def http(self, authorization: str | None, api_key: str | None) -> Principal:
        """The caller of a request with these `Authorization` and `X-API-Key` headers."""
        if authorization and api_key:
            raise InvalidToken("send an access token or an API key, not both")
        if api_key:
            return self.api_key(api_key.strip())
        if authorization:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() != BEARER or not token.strip():
                raise InvalidToken("the Authorization header must be 'Bearer <access token>'")
            return self.bearer(token.strip())
        raise MissingCredentials(
            "credentials are required: an access token (Authorization: Bearer) or an API key "
            "(X-API-Key)"
        )

    def bearer(self, token: str) -> Principal:
        claims = self.tokens.verify(token)
        client = self.client(claims.client_id)
        if client is None:
            raise InvalidToken("the access token's client is unknown or disabled")
        return Principal(client, claims.scopes & client.scopes, "bearer")

    def api_key(self, key: str) -> Principal:
        hashed = digest(key)
        now = self._now()
        cached = self._by_key.get(hashed)
        if cached is not None and cached[0] > now:
            return Principal(cached[1], cached[1].scopes, "api_key")
        client = self.clients.authenticate_api_key(key)
        with self._lock:
            self._by_key[hashed] = (now + self._ttl, client)
        return Principal(client, client.scopes, "api_key")

    def client(self, client_id: str) -> ApiClient | None:
        """The active client `client_id`, or None (unknown or disabled), cached briefly."""
        now = self._now()
        cached = self._by_id.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            found: ApiClient | None = self.clients.get(client_id)
        except NotFound:
            found = None
        if found is not None and not found.active:
            found = None
        with self._lock:
            self._by_id[client_id] = (now + self._ttl, found)
        return found

    def forget(self) -> None:
        """Drop every cached client (after this node disabled one or revoked a key)."""
        with self._lock:
            self._by_id.clear()
            self._by_key.clear()
