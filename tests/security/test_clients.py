"""The client registry: secrets and API keys are stored hashed and checked, clients disabled."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from bridge.domain.errors import InvalidClient, InvalidInput, InvalidToken, NotFound
from bridge.security.clients import ApiClient, ClientRegistry
from bridge.store.security_tables import api_clients, api_keys


def test_created_client_keeps_its_tier_scopes_plan_and_organisation(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner

    stored = registry.get(client.id)

    assert stored == client
    assert stored.tier == "partner"
    assert stored.scopes == {"shipments:read", "shipments:write"}
    assert (stored.plan, stored.organisation, stored.active) == ("enterprise", "acme", True)


def test_secret_is_stored_as_an_argon2id_hash_only(
    engine: Engine, partner: tuple[ApiClient, str]
) -> None:
    client, secret = partner

    with engine.connect() as db:
        stored = db.execute(
            select(api_clients.c.secret_hash).where(api_clients.c.id == client.id)
        ).scalar_one()

    assert stored.startswith("$argon2id$")
    assert secret not in stored


def test_right_secret_authenticates(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, secret = partner

    assert registry.authenticate(client.id, secret) == client


def test_wrong_secret_and_unknown_client_are_refused_alike(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, secret = partner

    with pytest.raises(InvalidClient) as wrong:
        registry.authenticate(client.id, secret + "x")
    with pytest.raises(InvalidClient) as unknown:
        registry.authenticate("cl_nobody", secret)

    assert wrong.value.detail == unknown.value.detail


def test_rotated_secret_replaces_the_old_one(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, old = partner

    new = registry.rotate_secret(client.id)

    assert registry.authenticate(client.id, new).id == client.id
    with pytest.raises(InvalidClient):
        registry.authenticate(client.id, old)


def test_disabled_client_is_refused_with_its_right_secret(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, secret = partner

    registry.disable(client.id)

    assert registry.get(client.id).active is False
    with pytest.raises(InvalidClient):
        registry.authenticate(client.id, secret)


def test_unknown_tier_is_refused(registry: ClientRegistry) -> None:
    with pytest.raises(InvalidInput):
        registry.create("Somebody", "admin", ["transfers:write"])


def test_scope_with_a_quote_is_refused(registry: ClientRegistry) -> None:
    with pytest.raises(InvalidInput):
        registry.create("Somebody", "public", ['transfers:"write'])


def test_rotating_an_unknown_client_is_not_found(registry: ClientRegistry) -> None:
    with pytest.raises(NotFound):
        registry.rotate_secret("cl_nobody")


def test_list_names_every_client(registry: ClientRegistry, partner: tuple[ApiClient, str]) -> None:
    other, _ = registry.create("Web shop", "public", ["transfers:read"])

    assert [c.id for c in registry.list()] == [partner[0].id, other.id]


def test_api_key_authenticates_its_client(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner

    key = registry.create_api_key(client.id)

    assert key.startswith("bk_")
    assert registry.authenticate_api_key(key) == client


def test_api_key_is_stored_as_a_digest_under_its_public_prefix(
    engine: Engine, registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    key = registry.create_api_key(partner[0].id)
    prefix = key.split("_")[1]

    with engine.connect() as db:
        row = db.execute(select(api_keys).where(api_keys.c.prefix == prefix)).one()

    assert len(row.key_hash) == 64
    assert key not in row.key_hash


@pytest.mark.parametrize("mangle", [lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), str.upper])
def test_altered_api_key_is_refused(
    registry: ClientRegistry, partner: tuple[ApiClient, str], mangle: object
) -> None:
    key = registry.create_api_key(partner[0].id)

    with pytest.raises(InvalidToken):
        registry.authenticate_api_key(mangle(key))  # type: ignore[operator]


@pytest.mark.parametrize("key", ["", "bk_", "bk_abc", "xx_abc_def", "Bearer abc"])
def test_malformed_api_key_is_refused(registry: ClientRegistry, key: str) -> None:
    with pytest.raises(InvalidToken):
        registry.authenticate_api_key(key)


def test_api_key_of_a_disabled_client_is_refused(
    registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    key = registry.create_api_key(partner[0].id)

    registry.disable(partner[0].id)

    with pytest.raises(InvalidToken):
        registry.authenticate_api_key(key)
