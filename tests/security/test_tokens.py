"""Access tokens: what is issued, and every way a forged or stale token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from bridge.domain.errors import InvalidScope, InvalidToken
from bridge.security.clients import ApiClient
from bridge.security.tokens import KeyRing, TokenService
from tests.common.clock import Clock
from tests.common.tokens import AUDIENCE, ISSUER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.fixture
def client(partner: tuple[ApiClient, str]) -> ApiClient:
    return partner[0]


def test_issued_token_verifies_with_its_client_and_scope(
    tokens: TokenService, client: ApiClient
) -> None:
    token = tokens.access_token(client, frozenset({"shipments:read"}))

    verified = tokens.verify(token)

    assert verified.client_id == client.id
    assert verified.scopes == {"shipments:read"}
    assert verified.expires_at - verified.issued_at == timedelta(hours=1)


def test_token_carries_every_required_claim_and_its_kid(
    tokens: TokenService, client: ApiClient
) -> None:
    token = tokens.access_token(client, client.scopes)

    header, claims = jwt.get_unverified_header(token), _claims(token)

    assert header == {"alg": "EdDSA", "kid": "k1", "typ": "at+jwt"}
    assert {"exp", "iat", "nbf", "iss", "aud", "sub", "client_id", "scope", "jti"} <= set(claims)
    assert (claims["iss"], claims["aud"], claims["sub"]) == (ISSUER, AUDIENCE, client.id)
    assert claims["exp"] - claims["iat"] == 3600


def test_lifetime_is_configurable(engine: Engine, ring: KeyRing, client: ApiClient) -> None:
    short = TokenService(
        engine, ring, issuer=ISSUER, audience=AUDIENCE, access_ttl=timedelta(minutes=5)
    )

    claims = _claims(short.access_token(client, client.scopes))

    assert claims["exp"] - claims["iat"] == 300


def test_expired_token_is_refused(tokens: TokenService, clock: Clock, client: ApiClient) -> None:
    clock.advance(hours=-2)
    token = tokens.access_token(client, client.scopes)

    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token)


def test_token_not_yet_valid_is_refused(
    tokens: TokenService, clock: Clock, client: ApiClient
) -> None:
    clock.advance(hours=1)
    token = tokens.access_token(client, client.scopes)

    with pytest.raises(InvalidToken):
        tokens.verify(token)


def test_token_whose_nbf_is_in_the_future_is_refused(
    tokens: TokenService, ring: KeyRing, client: ApiClient
) -> None:
    claims = _claims(tokens.access_token(client, client.scopes))
    claims["nbf"] += 600
    token = jwt.encode(
        claims, ring.keys["k1"], algorithm="EdDSA", headers={"kid": "k1", "typ": "at+jwt"}
    )

    with pytest.raises(InvalidToken, match="nbf"):
        tokens.verify(token)


def test_token_signed_by_another_key_under_our_kid_is_refused(
    engine: Engine, tokens: TokenService, client: ApiClient
) -> None:
    impostor = TokenService(engine, KeyRing.generate("k1"), issuer=ISSUER, audience=AUDIENCE)

    with pytest.raises(InvalidToken, match="Signature"):
        tokens.verify(impostor.access_token(client, client.scopes))


def test_tampered_scope_is_refused(tokens: TokenService, client: ApiClient) -> None:
    header, payload, signature = tokens.access_token(client, frozenset({"shipments:read"})).split(
        "."
    )
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "shipments:read shipments:write transfers:write"

    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{_b64(json.dumps(claims).encode())}.{signature}")


def test_token_for_another_audience_is_refused(tokens: TokenService, client: ApiClient) -> None:
    token = tokens.access_token(client, client.scopes)

    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        tokens.verify(token, audience="payroll")


def test_token_from_another_issuer_is_refused(
    engine: Engine, ring: KeyRing, tokens: TokenService, client: ApiClient
) -> None:
    stranger = TokenService(engine, ring, issuer="https://evil.test", audience=AUDIENCE)

    with pytest.raises(InvalidToken, match="issuer"):
        tokens.verify(stranger.access_token(client, client.scopes))


def test_unsigned_alg_none_token_is_refused(tokens: TokenService, client: ApiClient) -> None:
    claims = _claims(tokens.access_token(client, client.scopes))
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": "k1", "typ": "at+jwt"})

    with pytest.raises(InvalidToken):
        tokens.verify(unsigned)


@pytest.mark.parametrize("encoding", ["raw", "pem"])
def test_hmac_token_keyed_with_our_public_key_is_refused(
    tokens: TokenService, ring: KeyRing, client: ApiClient, encoding: str
) -> None:
    """The classic algorithm confusion: an attacker knows the public key and signs HS256 with
    it, hoping the verifier feeds the same key to HMAC."""
    public = ring.keys["k1"].public_key()
    secret = (
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if encoding == "raw"
        else public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    claims = _claims(tokens.access_token(client, client.scopes))
    claims["scope"] = "transfers:write"
    forged = _forge(
        {"alg": "HS256", "kid": "k1", "typ": "at+jwt"},
        claims,
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )

    with pytest.raises(InvalidToken):
        tokens.verify(forged)


def test_token_without_scope_is_refused(
    tokens: TokenService, ring: KeyRing, client: ApiClient
) -> None:
    claims = _claims(tokens.access_token(client, client.scopes))
    del claims["scope"]
    token = jwt.encode(
        claims, ring.keys["k1"], algorithm="EdDSA", headers={"kid": "k1", "typ": "at+jwt"}
    )

    with pytest.raises(InvalidToken, match="scope"):
        tokens.verify(token)


def test_token_of_another_type_is_refused(
    tokens: TokenService, ring: KeyRing, client: ApiClient
) -> None:
    claims = _claims(tokens.access_token(client, client.scopes))
    token = jwt.encode(claims, ring.keys["k1"], algorithm="EdDSA", headers={"kid": "k1"})

    with pytest.raises(InvalidToken):
        tokens.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30."])
def test_garbage_is_refused(tokens: TokenService, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify(garbage)


def test_rotated_ring_signs_with_the_new_kid_and_still_verifies_the_old(
    tokens: TokenService, client: ApiClient
) -> None:
    old = tokens.access_token(client, client.scopes)

    tokens.keys = tokens.keys.rotated("k2")
    new = tokens.access_token(client, client.scopes)

    assert jwt.get_unverified_header(new)["kid"] == "k2"
    assert tokens.verify(old).client_id == client.id
    assert tokens.verify(new).client_id == client.id


def test_token_of_a_removed_kid_is_refused(tokens: TokenService, client: ApiClient) -> None:
    old = tokens.access_token(client, client.scopes)

    tokens.keys = tokens.keys.rotated("k2").without("k1")

    with pytest.raises(InvalidToken, match="unknown key"):
        tokens.verify(old)


def test_key_ring_loads_kids_from_files_and_signs_with_the_greatest(
    tmp_path: Path, engine: Engine, client: ApiClient
) -> None:
    for kid in ("k2026a", "k2026b"):
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (tmp_path / f"{kid}.pem").write_bytes(pem)

    ring = KeyRing.load(tmp_path)

    assert (sorted(ring.keys), ring.current) == (["k2026a", "k2026b"], "k2026b")


def test_key_ring_makes_a_first_key_owner_readable_only(tmp_path: Path) -> None:
    ring = KeyRing.load(tmp_path / "keys")

    (path,) = (tmp_path / "keys").glob("*.pem")
    assert path.name == f"{ring.current}.pem"
    assert path.stat().st_mode & 0o077 == 0
    assert KeyRing.load(tmp_path / "keys").current == ring.current


def test_scope_beyond_the_clients_is_refused(tokens: TokenService, client: ApiClient) -> None:
    with pytest.raises(InvalidScope):
        tokens.grant(client, frozenset({"transfers:write"}))
