"""Real credentials for tests: an API client in the bridge's own database and its API key.

Tests that are not about security still go through the whole authentication path: `grant`
creates a client (tier, scopes, plan, organisation as asked) and an API key, and `authorized`
wraps a WSGI app so that every request without a credential of its own carries that key, the
way a configured client library would. A test about refusals sends its own headers (or none,
with `anonymous=True` clients).

The client's secret is hashed with cheap argon2 parameters: the tests create hundreds of
clients, and verification reads the parameters from the hash, so nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine

from bridge.security.access import SCOPES
from bridge.security.clients import ApiClient, ClientRegistry

ALL_SCOPES = frozenset(SCOPES)
CHEAP = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class Credentials:
    client: ApiClient
    secret: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self.api_key}


def grant(
    engine: Engine,
    *,
    tier: str = "private",
    scopes: Iterable[str] = ALL_SCOPES,
    plan: str = "internal",
    organisation: str | None = None,
    name: str = "test client",
) -> Credentials:
    registry = ClientRegistry(engine, hasher=CHEAP)
    client, secret = registry.create(name, tier, scopes, plan=plan, organisation=organisation)
    return Credentials(client, secret, registry.create_api_key(client.id))


def simulator_admin(engine: Engine) -> Credentials:
    """Who may call and steer the simulators on a served bridge (/sims/*, `_control` included):
    a private client holding `simulators:admin` and nothing else."""
    return grant(engine, scopes={"simulators:admin"}, name="simulator admin")


def scraper(engine: Engine) -> Credentials:
    """What Prometheus scrapes /metrics as: a private client holding `metrics:read` and nothing
    else."""
    return grant(engine, scopes={"metrics:read"}, name="prometheus")


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def authorized(app: WSGIApp, credentials: Credentials) -> WSGIApp:
    """`app`, with `credentials`' API key on every request that brings no credential itself."""

    def with_key(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not any(name in environ for name in ("HTTP_AUTHORIZATION", "HTTP_X_API_KEY")):
            environ["HTTP_X_API_KEY"] = credentials.api_key
        return app(environ, start_response)

    return with_key
