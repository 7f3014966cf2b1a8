"""The API-client registry: who may call the bridge, and how they prove it.

A client authenticates with its id and a secret (OAuth2 client credentials) or with an API key.
Neither is stored: the secret as an argon2id hash (slow and memory-hard, because a client secret
may one day be chosen by a person or leak from a config file, and a stolen table must not give
it back), the API key as a SHA-256 digest. SHA-256 is enough for API keys because we mint them
from 256 random bits: no dictionary or brute force gets through 2**256 guesses, so a slow hash
would only add its cost to every request that presents a key. Keys carry a short public prefix
(`bk_<prefix>_<secret>`) so the row is found by primary key, then the digest is compared in
constant time.

A client may also hold a WS-Security password, for the SOAP doors' UsernameToken. That one is
not hashed but sealed (AES-GCM, `bridge.security.sealing`): a PasswordDigest is
SHA-1(nonce + created + password), which only the password itself can recompute. It is a
separate random secret, not the client secret, so that the readable copy the server must keep
never gives away the credential of the token endpoint.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, Row, insert, select, update

from bridge.domain.clock import Clock, utcnow
from bridge.domain.errors import (
    ConfigurationError,
    InvalidClient,
    InvalidInput,
    InvalidToken,
    NotFound,
)
from bridge.security.sealing import Sealer
from bridge.settings import DEFAULT_PLAN
from bridge.store.security_tables import api_clients, api_keys, refresh_tokens

Tier = Literal["public", "partner", "private"]
TIERS: tuple[str, ...] = get_args(Tier)
API_KEY_MARK = "bk"
# What the bridge makes: `cl_` and 16 hex digits; an API key's prefix, 12 hex digits.
CLIENT_ID_FORM = re.compile(r"cl_[0-9a-f]{16}")
_KEY_PREFIX = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class ApiClient:
    """A caller of the bridge. `scopes` are what it may ever be granted; `plan` names its rate
    limit; `organisation` is the partner it belongs to (ownership checks compare it)."""

    id: str
    name: str
    tier: Tier
    scopes: frozenset[str]
    plan: str
    organisation: str | None
    active: bool


def parse_scopes(text: str) -> frozenset[str]:
    """An OAuth scope parameter (RFC 6749 3.3): space-separated tokens."""
    return frozenset(text.split())


def scope_text(scopes: Iterable[str]) -> str:
    """Scopes in a stable order, so the same grant always reads the same."""
    return " ".join(sorted(scopes))


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ClientRegistry:
    """API clients and their credentials in the bridge's database."""

    def __init__(
        self,
        engine: Engine,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = utcnow,
        sealer: Sealer | None = None,
    ) -> None:
        """`sealer` keeps WS-Security passwords; without one they can be neither issued nor
        checked (`ConfigurationError`)."""
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self.sealer = sealer

    @functools.cached_property
    def _decoy(self) -> str:
        """Verified against when the client id is unknown, so an unknown id costs as long as a
        wrong secret and response times do not tell which client ids exist. Made on first use:
        hashing costs as much as a login, and most processes never see one."""
        return self.hasher.hash(secrets.token_urlsafe(32))

    def create(
        self,
        name: str,
        tier: str,
        scopes: Iterable[str],
        *,
        plan: str = DEFAULT_PLAN,
        organisation: str | None = None,
    ) -> tuple[ApiClient, str]:
        """A new active client and its secret; the secret exists only in this return value."""
        if tier not in TIERS:
            raise InvalidInput(f"tier must be one of {', '.join(TIERS)}, got {tier!r}")
        wanted = frozenset(scopes)
        if not name.strip():
            raise InvalidInput("a client needs a name")
        if any(not _is_scope_token(scope) for scope in wanted):
            raise InvalidInput("a scope is printable ASCII without spaces, quotes or backslashes")
        client_id = "cl_" + secrets.token_hex(8)  # CLIENT_ID_FORM
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as db:
            db.execute(
                insert(api_clients).values(
                    id=client_id,
                    name=name,
                    tier=tier,
                    scopes=scope_text(wanted),
                    plan=plan,
                    organisation=organisation,
                    secret_hash=self.hasher.hash(secret),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        client = ApiClient(client_id, name, cast(Tier, tier), wanted, plan, organisation, True)
        return client, secret

    def get(self, client_id: str) -> ApiClient:
        with self.engine.connect() as db:
            row = _client_row(db, client_id)
        if row is None:
            raise NotFound(f"no API client {client_id!r}")
        return _client(row)

    def list(self) -> list[ApiClient]:
        with self.engine.connect() as db:
            rows = db.execute(select(api_clients).order_by(api_clients.c.created_at)).all()
        return [_client(row) for row in rows]

    def authenticate(self, client_id: str, secret: str) -> ApiClient:
        """The active client with this id and secret, or `InvalidClient` that does not say
        which was wrong. argon2 compares the hashes in constant time."""
        with self.engine.connect() as db:
            row = _client_row(db, client_id)
        stored = self._decoy if row is None else row.secret_hash
        try:
            self.hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            raise InvalidClient("client authentication failed") from None
        if row is None or not row.active:
            raise InvalidClient("client authentication failed")
        if self.hasher.check_needs_rehash(stored):
            # Parameters were raised since this hash was made: store it at today's cost.
            self._store_secret_hash(client_id, self.hasher.hash(secret))
        return _client(row)

    def rotate_secret(self, client_id: str) -> str:
        """A new secret for the client; the old one stops working at once."""
        secret = secrets.token_urlsafe(32)
        if not self._store_secret_hash(client_id, self.hasher.hash(secret)):
            raise NotFound(f"no API client {client_id!r}")
        return secret

    def disable(self, client_id: str) -> None:
        """Refuse the client from now on: its secret and API keys stop working and its refresh
        tokens are revoked. Access tokens already issued run out at their `exp`."""
        now = self.clock()
        with self.engine.begin() as db:
            changed = db.execute(
                update(api_clients)
                .where(api_clients.c.id == client_id)
                .values(active=False, updated_at=now)
            ).rowcount
            if not changed:
                raise NotFound(f"no API client {client_id!r}")
            db.execute(
                update(api_keys)
                .where(api_keys.c.client_id == client_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            db.execute(
                update(refresh_tokens)
                .where(
                    refresh_tokens.c.client_id == client_id, refresh_tokens.c.revoked_at.is_(None)
                )
                .values(revoked_at=now)
            )

    def create_api_key(self, client_id: str) -> str:
        """A new API key for the client, returned once: `bk_<prefix>_<secret>`."""
        self.get(client_id)
        prefix = secrets.token_hex(6)
        key = f"{API_KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as db:
            db.execute(
                insert(api_keys).values(
                    prefix=prefix,
                    client_id=client_id,
                    key_hash=digest(key),
                    created_at=self.clock(),
                )
            )
        return key

    def authenticate_api_key(self, key: str) -> ApiClient:
        """The active client this unrevoked key belongs to, or `InvalidToken`."""
        mark, _, rest = key.partition("_")
        prefix, _, secret = rest.partition("_")
        if mark != API_KEY_MARK or not _KEY_PREFIX.fullmatch(prefix) or not secret:
            raise InvalidToken("not an API key")
        with self.engine.connect() as db:
            row = db.execute(
                select(api_clients, api_keys.c.key_hash, api_keys.c.revoked_at)
                .join(api_clients, api_clients.c.id == api_keys.c.client_id)
                .where(api_keys.c.prefix == prefix)
            ).first()
        stored = "0" * 64 if row is None else row.key_hash
        matches = hmac.compare_digest(stored, digest(key))
        if row is None or not matches or row.revoked_at is not None or not row.active:
            raise InvalidToken("API key refused")
        return _client(row)

    def create_wss_password(self, client_id: str) -> str:
        """A new WS-Security password for the client, returned once; the old one stops working
        at once. The UsernameToken's Username is the client id."""
        password = secrets.token_urlsafe(24)
        sealed = self._sealer().seal(password, client_id)
        with self.engine.begin() as db:
            changed = db.execute(
                update(api_clients)
                .where(api_clients.c.id == client_id)
                .values(wss_password=sealed, updated_at=self.clock())
            ).rowcount
        if not changed:
            raise NotFound(f"no API client {client_id!r}")
        return password

    def wss_credentials(self, client_id: str) -> tuple[ApiClient, str] | None:
        """The client and its WS-Security password, for checking a UsernameToken; None when the
        client is unknown or has no such password. The client may be disabled: the caller
        refuses it after comparing, so both cases take the same work."""
        with self.engine.connect() as db:
            row = _client_row(db, client_id)
        if row is None or row.wss_password is None:
            return None
        return _client(row), self._sealer().open(row.wss_password, client_id)

    def _sealer(self) -> Sealer:
        if self.sealer is None:
            raise ConfigurationError("WS-Security passwords need a key: no sealer was configured")
        return self.sealer

    def _store_secret_hash(self, client_id: str, secret_hash: str) -> bool:
        with self.engine.begin() as db:
            changed: int = db.execute(
                update(api_clients)
                .where(api_clients.c.id == client_id)
                .values(secret_hash=secret_hash, updated_at=self.clock())
            ).rowcount
        return changed == 1


def _is_scope_token(scope: str) -> bool:
    # RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    return bool(scope) and all(ch == "!" or "#" <= ch <= "[" or "]" <= ch <= "~" for ch in scope)


def _client(row: Row[Any]) -> ApiClient:
    return ApiClient(
        id=row.id,
        name=row.name,
        tier=row.tier,
        scopes=parse_scopes(row.scopes),
        plan=row.plan,
        organisation=row.organisation,
        active=row.active,
    )


def _client_row(db: Connection, client_id: str) -> Row[Any] | None:
    """The client's row; None, without asking the database, for what is no client id at all
    (a caller's typo, or a NUL or control character no database should be handed)."""
    if not CLIENT_ID_FORM.fullmatch(client_id):
        return None
    return db.execute(select(api_clients).where(api_clients.c.id == client_id)).first()
