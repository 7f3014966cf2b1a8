"""The WS-Security UsernameToken verifier, on a real registry and nonce table (SQLite).

Headers come three ways: fixed samples under tests/data/soap/wss/, tokens built here with the
digest computed by hashlib (independently of the verifier's code), and zeep's own
`UsernameToken` applied to an envelope, the way a partner's zeep client sends it. Each is
serialised and parsed again by the bridge's hardened parser, as the SOAP gateway does.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy import Engine, update
from zeep.wsse.username import UsernameToken

from bridge.domain.errors import (
    ExpiredToken,
    InvalidToken,
    MissingCredentials,
    ReplayedNonce,
)
from bridge.mapping import xml
from bridge.security.clients import ApiClient, ClientRegistry
from bridge.security.nonces import DatabaseNonces
from bridge.security.sealing import WSS_KEY_FILE, Sealer
from bridge.security.wssecurity import (
    PASSWORD_DIGEST,
    PASSWORD_TEXT,
    WSSE,
    WSU,
    UsernameTokenVerifier,
    build_wss_verifier,
    find_security,
)
from bridge.settings import Settings
from bridge.store.security_tables import api_clients
from tests.common.clock import Clock
from tests.common.soap import DATA

SAMPLES = DATA / "wss"
VERIFY_ACCOUNT = DATA / "requests" / "verify_account.xml"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# The client and password the fixed samples were made for (see their comments).
SAMPLE_ID = "cl_5a3b1e0000000001"
SAMPLE_PASSWORD = "correct horse battery staple"
SAMPLE_CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=300)
SKEW = timedelta(seconds=60)

wsse = ElementMaker(namespace=WSSE, nsmap={"wsse": WSSE, "wsu": WSU})
wsu = ElementMaker(namespace=WSU, nsmap={"wsu": WSU})


@pytest.fixture
def sealer(tmp_path: Path) -> Sealer:
    return Sealer(tmp_path / "keys" / WSS_KEY_FILE)


@pytest.fixture
def wss_registry(engine: Engine, clock: Clock, sealer: Sealer) -> ClientRegistry:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return ClientRegistry(engine, hasher=cheap, clock=clock, sealer=sealer)


@pytest.fixture
def bank(wss_registry: ClientRegistry) -> tuple[ApiClient, str]:
    """A partner bank with a WS-Security password."""
    client, _ = wss_registry.create(
        "Nordbank", "partner", ["accounts:read", "transfers:write"], organisation="nordbank"
    )
    return client, wss_registry.create_wss_password(client.id)


@pytest.fixture
def sample_client(wss_registry: ClientRegistry, engine: Engine, sealer: Sealer) -> ApiClient:
    """The client of the fixed samples: id `cl_5a3b1e0000000001`, the samples' password, sealed."""
    client, _ = wss_registry.create("Sample Bank", "partner", ["accounts:read"])
    with engine.begin() as db:
        db.execute(
            update(api_clients)
            .where(api_clients.c.id == client.id)
            .values(id=SAMPLE_ID, wss_password=sealer.seal(SAMPLE_PASSWORD, SAMPLE_ID))
        )
    return wss_registry.get(SAMPLE_ID)


@pytest.fixture
def verifier(wss_registry: ClientRegistry, engine: Engine, clock: Clock) -> UsernameTokenVerifier:
    return UsernameTokenVerifier(
        wss_registry,
        DatabaseNonces(engine, WINDOW + SKEW, clock=clock),
        window=WINDOW,
        skew=SKEW,
        clock=clock,
    )


@pytest.fixture
def lenient(wss_registry: ClientRegistry, engine: Engine, clock: Clock) -> UsernameTokenVerifier:
    """A verifier configured to accept PasswordText."""
    return UsernameTokenVerifier(
        wss_registry,
        DatabaseNonces(engine, WINDOW + SKEW, clock=clock),
        window=WINDOW,
        skew=SKEW,
        password_text=True,
        clock=clock,
    )


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)), as the profile (section 3.1) defines it."""
    return base64.b64encode(
        hashlib.sha1(nonce + created.encode() + password.encode()).digest()
    ).decode()


def xsd_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token(
    username: str,
    password: str,
    *,
    created: datetime | None,
    nonce: bytes | None = None,
    text: bool = False,
) -> Any:
    """A Security header with one UsernameToken: a digest of `password` unless `text`."""
    parts: list[Any] = [wsse.Username(username)]
    created_text = None if created is None else xsd_time(created)
    if text:
        parts.append(wsse.Password(password, Type=PASSWORD_TEXT))
    else:
        assert nonce is not None
        assert created_text is not None
        parts.append(
            wsse.Password(password_digest(nonce, created_text, password), Type=PASSWORD_DIGEST)
        )
    if nonce is not None:
        parts.append(wsse.Nonce(base64.b64encode(nonce).decode()))
    if created_text is not None:
        parts.append(wsu.Created(created_text))
    return wsse.Security(wsse.UsernameToken(*parts))


def in_envelope(security: Any) -> bytes:
    """The VerifyAccount sample with `security` as its one header."""
    envelope = etree.fromstring(VERIFY_ACCOUNT.read_bytes())
    header = etree.Element(f"{{{SOAP_ENV}}}Header")
    header.append(security)
    envelope.insert(0, header)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def received(document: bytes) -> Any:
    """The Security header as the gateway hands it over: hardened parse, header children."""
    envelope = xml.parse(document)
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    children = None if header is None else [child for child in header if isinstance(child.tag, str)]
    return find_security(children)


def sample(name: str) -> Any:
    return received((SAMPLES / name).read_bytes())


def digest_header(
    client_id: str, password: str, created: datetime, nonce: bytes | None = None
) -> Any:
    return received(
        in_envelope(token(client_id, password, created=created, nonce=nonce or os.urandom(16)))
    )


# -- accepted ----------------------------------------------------------------------------------


def test_zeep_username_token_with_digest_is_accepted(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str]
) -> None:
    client, password = bank
    envelope = xml.parse(VERIFY_ACCOUNT.read_bytes())
    UsernameToken(client.id, password, use_digest=True).apply(envelope, {})

    found = verifier.verify(received(etree.tostring(envelope)))

    assert found.id == client.id


def test_zeep_username_token_sent_twice_is_a_replay(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str]
) -> None:
    client, password = bank
    envelope = xml.parse(VERIFY_ACCOUNT.read_bytes())
    UsernameToken(client.id, password, use_digest=True).apply(envelope, {})
    document = etree.tostring(envelope)
    verifier.verify(received(document))

    with pytest.raises(ReplayedNonce):
        verifier.verify(received(document))


def test_digest_made_from_nonce_created_and_password_is_accepted(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank

    assert verifier.verify(digest_header(client.id, password, clock.now)) == client


def test_known_answer_sample_is_accepted_within_its_window(
    verifier: UsernameTokenVerifier, sample_client: ApiClient, clock: Clock
) -> None:
    security = sample("known_answer.xml")
    nonce = bytes(range(1, 17))
    sent = security.findtext(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Password")
    assert sent == password_digest(nonce, "2026-03-01T09:00:00Z", SAMPLE_PASSWORD)
    clock.now = SAMPLE_CREATED + timedelta(seconds=10)

    assert verifier.verify(security) == sample_client


def test_created_up_to_the_clock_skew_ahead_is_accepted(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank

    assert verifier.verify(digest_header(client.id, password, clock.now + SKEW)) == client


def test_created_at_the_edge_of_the_window_is_accepted(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank

    assert verifier.verify(digest_header(client.id, password, clock.now - WINDOW)) == client


def test_the_same_nonce_from_two_clients_is_two_nonces(
    verifier: UsernameTokenVerifier, wss_registry: ClientRegistry, clock: Clock
) -> None:
    nonce = os.urandom(16)
    for name in ("Nordbank", "Südbank"):
        client, _ = wss_registry.create(name, "partner", ["accounts:read"])
        password = wss_registry.create_wss_password(client.id)

        assert verifier.verify(digest_header(client.id, password, clock.now, nonce)) == client


def test_a_refused_token_does_not_use_up_its_nonce(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    nonce = os.urandom(16)
    with pytest.raises(InvalidToken):
        verifier.verify(digest_header(client.id, "a guess", clock.now, nonce))

    assert verifier.verify(digest_header(client.id, password, clock.now, nonce)) == client


def test_a_nonce_is_good_again_once_its_window_has_passed(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    nonce = os.urandom(16)
    verifier.verify(digest_header(client.id, password, clock.now, nonce))
    clock.advance(seconds=(WINDOW + SKEW).total_seconds() + 1)

    assert verifier.verify(digest_header(client.id, password, clock.now, nonce)) == client


# -- refused: stale, replayed ------------------------------------------------------------------


def test_replayed_nonce_is_refused(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    nonce = os.urandom(16)
    verifier.verify(digest_header(client.id, password, clock.now, nonce))
    clock.advance(seconds=30)

    with pytest.raises(ReplayedNonce):
        verifier.verify(digest_header(client.id, password, clock.now, nonce))


def test_stale_created_is_refused(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    stale = clock.now - WINDOW - timedelta(seconds=1)

    with pytest.raises(ExpiredToken):
        verifier.verify(digest_header(client.id, password, stale))


def test_created_beyond_the_clock_skew_ahead_is_refused(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    ahead = clock.now + SKEW + timedelta(seconds=1)

    with pytest.raises(ExpiredToken):
        verifier.verify(digest_header(client.id, password, ahead))


def test_known_answer_sample_is_stale_after_its_window(
    verifier: UsernameTokenVerifier, sample_client: ApiClient, clock: Clock
) -> None:
    clock.now = SAMPLE_CREATED + WINDOW + timedelta(seconds=1)

    with pytest.raises(ExpiredToken):
        verifier.verify(sample("known_answer.xml"))


def test_expired_timestamp_is_refused_even_with_a_fresh_token(
    verifier: UsernameTokenVerifier, sample_client: ApiClient, clock: Clock
) -> None:
    clock.now = SAMPLE_CREATED + timedelta(minutes=2)

    with pytest.raises(ExpiredToken):
        verifier.verify(sample("expired_timestamp.xml"))


# -- refused: wrong credentials, one answer for all ---------------------------------------------


def test_wrong_password_is_refused(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, _ = bank

    with pytest.raises(InvalidToken) as refused:
        verifier.verify(digest_header(client.id, "not the password", clock.now))

    assert type(refused.value) is InvalidToken


def test_unknown_client_and_wrong_password_read_the_same(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    with pytest.raises(InvalidToken) as unknown:
        verifier.verify(digest_header("cl_0000000000000000", password, clock.now))
    with pytest.raises(InvalidToken) as wrong:
        verifier.verify(digest_header(client.id, password + "x", clock.now))

    assert unknown.value.detail == wrong.value.detail


def test_disabled_client_is_refused(
    verifier: UsernameTokenVerifier,
    wss_registry: ClientRegistry,
    bank: tuple[ApiClient, str],
    clock: Clock,
) -> None:
    client, password = bank
    wss_registry.disable(client.id)

    with pytest.raises(InvalidToken):
        verifier.verify(digest_header(client.id, password, clock.now))


def test_client_without_a_wss_password_is_refused(
    verifier: UsernameTokenVerifier, wss_registry: ClientRegistry, clock: Clock
) -> None:
    client, secret = wss_registry.create("Secret Only", "partner", ["accounts:read"])

    with pytest.raises(InvalidToken):
        verifier.verify(digest_header(client.id, secret, clock.now))


def test_a_new_wss_password_replaces_the_old_one(
    verifier: UsernameTokenVerifier,
    wss_registry: ClientRegistry,
    bank: tuple[ApiClient, str],
    clock: Clock,
) -> None:
    client, old = bank
    new = wss_registry.create_wss_password(client.id)

    with pytest.raises(InvalidToken):
        verifier.verify(digest_header(client.id, old, clock.now))
    assert verifier.verify(digest_header(client.id, new, clock.now)) == client


# -- PasswordText --------------------------------------------------------------------------------


def test_password_text_is_refused_unless_configured(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    security = received(in_envelope(token(client.id, password, created=None, text=True)))

    with pytest.raises(InvalidToken, match="PasswordText"):
        verifier.verify(security)


def test_password_text_is_accepted_when_configured(
    lenient: UsernameTokenVerifier, bank: tuple[ApiClient, str]
) -> None:
    client, password = bank
    security = received(in_envelope(token(client.id, password, created=None, text=True)))

    assert lenient.verify(security) == client


def test_password_text_sample_is_accepted_when_configured(
    lenient: UsernameTokenVerifier, sample_client: ApiClient
) -> None:
    assert lenient.verify(sample("password_text.xml")) == sample_client


def test_wrong_password_text_is_refused(
    lenient: UsernameTokenVerifier, bank: tuple[ApiClient, str]
) -> None:
    client, password = bank
    security = received(in_envelope(token(client.id, password[:-1], created=None, text=True)))

    with pytest.raises(InvalidToken):
        lenient.verify(security)


def test_password_text_with_a_nonce_is_checked_for_replay(
    lenient: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    document = in_envelope(
        token(client.id, password, created=clock.now, nonce=os.urandom(16), text=True)
    )
    lenient.verify(received(document))

    with pytest.raises(ReplayedNonce):
        lenient.verify(received(document))


def test_stale_password_text_is_refused(
    lenient: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    stale = clock.now - WINDOW - timedelta(seconds=1)
    security = received(in_envelope(token(client.id, password, created=stale, text=True)))

    with pytest.raises(ExpiredToken):
        lenient.verify(security)


# -- missing and malformed ---------------------------------------------------------------------


def test_no_security_header_is_missing_credentials(verifier: UsernameTokenVerifier) -> None:
    with pytest.raises(MissingCredentials):
        verifier.verify(received(VERIFY_ACCOUNT.read_bytes()))


def test_security_header_without_a_username_token_is_missing_credentials(
    verifier: UsernameTokenVerifier, clock: Clock
) -> None:
    clock.now = SAMPLE_CREATED

    with pytest.raises(MissingCredentials):
        verifier.verify(sample("timestamp_only.xml"))


@pytest.mark.parametrize(
    "name",
    [
        "digest_without_nonce.xml",
        "digest_without_created.xml",
        "short_nonce.xml",
        "hex_nonce.xml",
        "created_without_zone.xml",
        "unknown_password_type.xml",
        "two_tokens.xml",
        "no_password.xml",
    ],
)
def test_malformed_token_is_refused_as_invalid(
    verifier: UsernameTokenVerifier, sample_client: ApiClient, clock: Clock, name: str
) -> None:
    clock.now = SAMPLE_CREATED + timedelta(seconds=10)

    with pytest.raises(InvalidToken) as refused:
        verifier.verify(sample(name))

    assert type(refused.value) is InvalidToken


def test_two_security_headers_are_refused() -> None:
    with pytest.raises(InvalidToken):
        sample("two_security_headers.xml")


def test_digest_split_over_lines_is_read_as_base64(
    verifier: UsernameTokenVerifier, bank: tuple[ApiClient, str], clock: Clock
) -> None:
    client, password = bank
    security = token(client.id, password, created=clock.now, nonce=os.urandom(16))
    field = security.find(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Password")
    field.text = f"\n  {field.text[:12]}\n  {field.text[12:]}\n"

    assert verifier.verify(received(in_envelope(security))) == client


# -- built from the settings --------------------------------------------------------------------


def test_built_from_settings_nonces_go_to_the_database_for_window_plus_skew(
    engine: Engine, wss_registry: ClientRegistry
) -> None:
    settings = Settings(database_url="sqlite://", wss_window=120, wss_clock_skew=30)

    built = build_wss_verifier(settings, engine, wss_registry)

    assert isinstance(built.nonces, DatabaseNonces)
    assert built.nonces.ttl == timedelta(seconds=150)
    assert (built.window, built.skew, built.password_text) == (
        timedelta(seconds=120),
        timedelta(seconds=30),
        False,
    )


@pytest.mark.redis
def test_built_with_redis_a_replay_is_refused_across_verifiers(
    engine: Engine, wss_registry: ClientRegistry, bank: tuple[ApiClient, str], redis_url: str
) -> None:
    settings = Settings(database_url="sqlite://", redis_url=redis_url)
    one, other = (build_wss_verifier(settings, engine, wss_registry) for _ in range(2))
    client, password = bank
    document = in_envelope(
        token(client.id, password, created=datetime.now(UTC), nonce=os.urandom(16))
    )
    one.verify(received(document))

    with pytest.raises(ReplayedNonce):
        other.verify(received(document))
