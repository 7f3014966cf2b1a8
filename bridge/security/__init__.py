"""API clients and their credentials: the registry (`clients`), OAuth2 tokens (`tokens`), who is
calling and what an operation lets in (`access`), authentication of a request (`authn`), the
one admission path of every door (`admission`), the accounts whose statements a partner may
read (`links`), the throttle on guessing credentials (`throttle`), the audit record of every
call (`audit`), and the scopes this app knows (`access.Scopes`: the bridge's own and the
imported services'). Doors reach them through one `Security`, built at start-up; the
`bridge clients` command that manages them from the shell is `bridge.clients_cli`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from bridge.domain.errors import AuthenticationFailed
from bridge.security.access import Scopes
from bridge.security.authn import Authenticator
from bridge.security.clients import ClientRegistry
from bridge.security.links import AccountLinks
from bridge.security.ratelimit import RateLimiter
from bridge.security.sealing import wss_sealer
from bridge.security.throttle import GUESS, AuthThrottle, TooManyFailures
from bridge.security.tokens import KeyRing, TokenService
from bridge.security.wssecurity import UsernameTokenVerifier, build_wss_verifier
from bridge.settings import Settings

# (source address, door, reason) of a refused credential.
FailureListener = Callable[[str | None, str, str], None]
# The door of an attempt refused by the throttle, or of a call over its rate-limit plan.
DoorListener = Callable[[str], None]


@dataclass
class Security:
    clients: ClientRegistry
    tokens: TokenService
    authenticator: Authenticator
    links: AccountLinks
    limiter: RateLimiter | None = None
    wss: UsernameTokenVerifier | None = None
    on_failure: FailureListener | None = None
    throttle: AuthThrottle | None = None
    on_throttled: DoorListener | None = None
    on_rate_limited: DoorListener | None = None
    scopes: Scopes = field(default_factory=Scopes)

    @contextmanager
    def attempt(
        self, door: str, source: str | None, client_id: str | None = None
    ) -> Iterator[None]:
        """Around the check of one credential (by `client_id`, when it names one, from
        `source`): refuses a locked-out caller with `TooManyFailures` before anything is
        checked, and counts an `AuthenticationFailed` raised inside as a failure."""
        if self.throttle is not None:
            try:
                self.throttle.check(source, client_id)
            except TooManyFailures:
                if self.on_throttled is not None:
                    self.on_throttled(door)
                raise
        try:
            yield
        except AuthenticationFailed as error:
            self.failed(source, door, error.reason, client_id)
            raise

    def rate_limited(self, door: str) -> None:
        """A door refused a call over its caller's rate-limit plan."""
        if self.on_rate_limited is not None:
            self.on_rate_limited(door)

    def failed(
        self, source: str | None, door: str, reason: str, client_id: str | None = None
    ) -> None:
        """A door refused a credential: count a guess against the throttle, and tell whoever
        watches for bursts."""
        if self.throttle is not None and reason == GUESS:
            self.throttle.failed(source, client_id)
        if self.on_failure is not None:
            self.on_failure(source, door, reason)


def build_security(settings: Settings, engine: Engine, scopes: Scopes | None = None) -> Security:
    """The registry, token service and authenticator of this process, configured by `settings`;
    `scopes`: the ones this app knows (the built-in ones when not given)."""
    keys = KeyRing.load(settings.token_keys_dir, settings.token_signing_kid)
    tokens = TokenService(
        engine,
        keys,
        issuer=settings.token_issuer or settings.base_url,
        audience=settings.token_audience,
        access_ttl=timedelta(seconds=settings.access_token_ttl),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl),
    )
    clients = ClientRegistry(engine, sealer=wss_sealer(settings))
    return Security(
        clients,
        tokens,
        Authenticator(clients, tokens),
        AccountLinks(engine),
        limiter=RateLimiter.from_settings(settings),
        wss=build_wss_verifier(settings, engine, clients),
        throttle=AuthThrottle.from_settings(settings),
        scopes=scopes or Scopes(),
    )
