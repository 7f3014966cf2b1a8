"""API clients and their credentials: the registry (`clients`), OAuth2 tokens (`tokens`), the
`bridge clients` command (`cli`). Doors reach them through one `Security`, built from settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bridge.security.clients import ClientRegistry
from bridge.security.tokens import KeyRing, TokenService
from bridge.settings import Settings


@dataclass(frozen=True)
class Security:
    clients: ClientRegistry
    tokens: TokenService


def build_security(settings: Settings, engine: Engine) -> Security:
    """The registry and token service of this process, configured by `settings`."""
    keys = KeyRing.load(settings.token_keys_dir, settings.token_signing_kid)
    tokens = TokenService(
        engine,
        keys,
        issuer=settings.token_issuer or settings.base_url,
        audience=settings.token_audience,
        access_ttl=timedelta(seconds=settings.access_token_ttl),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl),
    )
    return Security(ClientRegistry(engine), tokens)
