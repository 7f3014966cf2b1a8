"""API clients and their credentials: the registry (`clients`), OAuth2 tokens (`tokens`), who is
calling and what an operation lets in (`access`), authentication of a request (`authn`), the
`bridge clients` command (`cli`). Doors reach them through one `Security`, built at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bridge.security.authn import Authenticator
from bridge.security.clients import ClientRegistry
from bridge.security.ratelimit import RateLimiter
from bridge.security.sealing import wss_sealer
from bridge.security.tokens import KeyRing, TokenService
from bridge.security.wssecurity import UsernameTokenVerifier, build_wss_verifier
from bridge.settings import Settings

# (source address, door, reason) of a refused credential.
FailureListener = Callable[[str | None, str, str], None]


@dataclass
class Security:
    clients: ClientRegistry
    tokens: TokenService
    authenticator: Authenticator
    limiter: RateLimiter | None = None
    wss: UsernameTokenVerifier | None = None
    on_failure: FailureListener | None = None

    def failed(self, source: str | None, door: str, reason: str) -> None:
        """A door refused a credential: tell whoever watches for bursts."""
        if self.on_failure is not None:
            self.on_failure(source, door, reason)


def build_security(settings: Settings, engine: Engine) -> Security:
    """The registry, token service and authenticator of this process, configured by `settings`."""
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
        limiter=RateLimiter.from_settings(settings),
        wss=build_wss_verifier(settings, engine, clients),
    )
