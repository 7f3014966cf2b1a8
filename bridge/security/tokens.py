"""OAuth2 tokens: signed JWT access tokens and opaque, rotating refresh tokens.

Access tokens are JWTs (RFC 9068 profile, `typ: at+jwt`) signed with Ed25519 (`EdDSA`). An
asymmetric algorithm, so that anything that only checks tokens (a gateway, another service) can
hold the public keys and never the power to mint them; and Ed25519 rather than ES256 because its
signatures are deterministic and its keys have no parameters to get wrong. Verification pins the
algorithm list to `EdDSA` and picks the key by `kid` from our own key ring, so neither `alg:
none` nor an HMAC token "signed" with a public key can pass, and it requires every claim we set.

Signing keys rotate by `kid`: the ring's current key signs, every key still in the ring verifies,
so a new key can be added without breaking tokens already out, and an old one is dropped once
its tokens have expired (or at once, to cut them off).

Refresh tokens are random strings stored as SHA-256 digests (they are 256-bit random, so a fast
hash is enough, as for API keys). Each use spends the token and issues a new one in the same
family; presenting a spent token means two parties hold it, so the whole family is revoked
(RFC 6819 5.2.2.3, OAuth 2.0 Security BCP 4.14).
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine, insert, select, update

from bridge.domain.clock import Clock, as_utc, utcnow
from bridge.domain.errors import (
    ConfigurationError,
    ExpiredToken,
    InvalidGrant,
    InvalidScope,
    InvalidToken,
)
from bridge.security.clients import ApiClient, digest, scope_text
from bridge.store.security_tables import refresh_tokens

ALGORITHM = "EdDSA"
JWT_TYPE = "at+jwt"  # RFC 9068: keeps an ID token or any other JWT of ours from passing
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "client_id", "scope", "jti"]
# Clock skew tolerated between the node that issued a token and the one that checks it.
LEEWAY = timedelta(seconds=10)
KEY_SUFFIX = ".pem"


@dataclass(frozen=True)
class KeyRing:
    """Signing keys by `kid`. `current` signs; all of them verify."""

    keys: dict[str, Ed25519PrivateKey]
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ConfigurationError(f"signing key {self.current!r} is not in the key ring")

    @classmethod
    def generate(cls, kid: str) -> KeyRing:
        return cls({kid: Ed25519PrivateKey.generate()}, kid)

    def rotated(self, kid: str, key: Ed25519PrivateKey | None = None) -> KeyRing:
        """This ring with `kid` added and signing from now on; older keys still verify."""
        return replace(
            self, keys={**self.keys, kid: key or Ed25519PrivateKey.generate()}, current=kid
        )

    def without(self, kid: str) -> KeyRing:
        """This ring without `kid`: tokens it signed are refused from now on."""
        return replace(self, keys={k: v for k, v in self.keys.items() if k != kid})

    def signing_key(self) -> Ed25519PrivateKey:
        return self.keys[self.current]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self.keys.get(kid)
        return None if key is None else key.public_key()

    @classmethod
    def load(cls, directory: Path, current: str = "", *, clock: Clock = utcnow) -> KeyRing:
        """The ring from `<kid>.pem` files (PKCS#8 Ed25519) in `directory`. `current` names the
        signing key; empty means the greatest kid, so kids named by date sort into rotation
        order. An empty or missing directory gets a first key, so the embedded default (one
        machine, `var/`) runs without setup; production points the setting at managed keys."""
        if not any(directory.glob(f"*{KEY_SUFFIX}")):
            write_key(directory, "k" + clock().strftime("%Y%m%dT%H%M%S"))
        keys: dict[str, Ed25519PrivateKey] = {}
        for path in sorted(directory.glob(f"*{KEY_SUFFIX}")):
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigurationError(f"signing key {path} is not an Ed25519 private key")
            keys[path.name.removesuffix(KEY_SUFFIX)] = key
        return cls(keys, current or max(keys))


def write_key(directory: Path, kid: str) -> Path:
    """A new Ed25519 key as `<kid>.pem`, readable by its owner only; never overwrites one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kid}{KEY_SUFFIX}"
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path  # another process made it first: use theirs
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return path


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says about its bearer."""

    client_id: str
    scopes: frozenset[str]
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class TokenGrant:
    """The answer of the token endpoint (RFC 6749 5.1)."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str
    token_type: str = field(default="Bearer")


@dataclass(eq=False)
class TokenService:
    """Issues, refreshes and checks the bridge's tokens; `on_reuse` is told (client id, family
    id) when a spent refresh token comes back: a security event."""

    engine: Engine
    keys: KeyRing
    _: KW_ONLY
    issuer: str
    audience: str
    access_ttl: timedelta = timedelta(hours=1)
    refresh_ttl: timedelta = timedelta(days=30)
    clock: Clock = utcnow
    on_reuse: Callable[[str, str], None] | None = None

    def grant(self, client: ApiClient, scopes: frozenset[str] | None = None) -> TokenGrant:
        """Client credentials: an access token and the first refresh token of a new family.
        RFC 6749 4.4.3 says a refresh token SHOULD NOT come with this grant; we issue one
        because our design rotates and revokes them, which a bare secret cannot do."""
        granted = self._narrow(client.scopes, scopes)
        refresh = self._store_refresh(client.id, str(uuid.uuid4()), granted)
        return self._answer(client, granted, refresh)

    def refresh(
        self, token: str, client: ApiClient, scopes: frozenset[str] | None = None
    ) -> TokenGrant:
        """Spend `token` for a new pair in its family. The scope may shrink, never grow beyond
        the original grant (RFC 6749 6), nor beyond what the client holds today."""
        now = self.clock()
        token_hash = digest(token)
        with self.engine.begin() as db:
            row = db.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            ).first()
            if row is None or row.client_id != client.id:
                raise InvalidGrant("refresh token is not valid")
            if row.revoked_at is not None or as_utc(row.expires_at) <= now:
                raise InvalidGrant("refresh token is not valid")
            # Checked before the token is spent, so a wrong scope does not cost the client it.
            granted = self._narrow(frozenset(row.scope.split()) & client.scopes, scopes)
            # Spend it only if nobody else has: a concurrent second use updates no row.
            spent = db.execute(
                update(refresh_tokens)
                .where(
                    refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None)
                )
                .values(used_at=now)
            ).rowcount
        if spent != 1:
            # Spent before: the token leaked or was replayed. Cut off everything it led to.
            self.revoke_family(row.family_id)
            if self.on_reuse is not None:
                self.on_reuse(client.id, row.family_id)
            raise InvalidGrant("refresh token is not valid")
        return self._answer(client, granted, self._store_refresh(client.id, row.family_id, granted))

    def revoke_family(self, family_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(refresh_tokens)
                .where(
                    refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None)
                )
                .values(revoked_at=self.clock())
            )

    def access_token(self, client: ApiClient, scopes: frozenset[str]) -> str:
        now = self.clock()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client.id,
            "client_id": client.id,
            "scope": scope_text(scopes),
            "iat": now,
            "nbf": now,
            "exp": now + self.access_ttl,
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(
            claims,
            self.keys.signing_key(),
            algorithm=ALGORITHM,
            headers={"kid": self.keys.current, "typ": JWT_TYPE},
        )

    def verify(self, token: str, audience: str | None = None) -> AccessClaims:
        """The claims of a token we issued, still valid, for `audience` (ours by default);
        `InvalidToken` otherwise, without saying why to the caller."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("access token is not a JWT") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or header.get("typ") != JWT_TYPE:
            raise InvalidToken("access token is not one of ours")
        key = self.keys.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("access token is signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience or self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise ExpiredToken("access token expired") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"access token refused: {exc}") from None
        if not isinstance(claims["scope"], str) or claims["sub"] != claims["client_id"]:
            raise InvalidToken("access token claims are malformed")
        return AccessClaims(
            client_id=claims["client_id"],
            scopes=frozenset(claims["scope"].split()),
            token_id=claims["jti"],
            issued_at=datetime.fromtimestamp(claims["iat"], self.clock().tzinfo),
            expires_at=datetime.fromtimestamp(claims["exp"], self.clock().tzinfo),
        )

    def _answer(self, client: ApiClient, scopes: frozenset[str], refresh: str) -> TokenGrant:
        return TokenGrant(
            access_token=self.access_token(client, scopes),
            expires_in=int(self.access_ttl.total_seconds()),
            scope=scope_text(scopes),
            refresh_token=refresh,
        )

    def _store_refresh(self, client_id: str, family_id: str, scopes: frozenset[str]) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as db:
            db.execute(
                insert(refresh_tokens).values(
                    token_hash=digest(token),
                    family_id=family_id,
                    client_id=client_id,
                    scope=scope_text(scopes),
                    issued_at=now,
                    expires_at=now + self.refresh_ttl,
                )
            )
        return token

    @staticmethod
    def _narrow(held: frozenset[str], wanted: frozenset[str] | None) -> frozenset[str]:
        """RFC 6749 3.3: no scope asked means all the client holds; more than it holds is
        refused rather than silently cut, so a client learns its registration is wrong."""
        if wanted is None:
            return held
        if not wanted or not wanted <= held:
            raise InvalidScope("the requested scope exceeds what the client was granted")
        return wanted
