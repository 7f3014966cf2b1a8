"""Refresh tokens: single use, rotated on use; a reused one revokes its whole family."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from bridge.domain.errors import InvalidGrant, InvalidScope
from bridge.security.clients import ApiClient, ClientRegistry
from bridge.security.tokens import TokenService
from bridge.store.security_tables import refresh_tokens
from tests.common.clock import Clock


def test_refresh_returns_a_new_pair_with_the_same_scope(
    tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner
    first = tokens.grant(client)

    second = tokens.refresh(first.refresh_token, client)

    assert second.refresh_token != first.refresh_token
    assert second.scope == first.scope
    assert tokens.verify(second.access_token).scopes == client.scopes


def test_refresh_token_is_stored_as_a_digest(
    engine: Engine, tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    grant = tokens.grant(partner[0])

    with engine.connect() as db:
        stored = db.execute(select(refresh_tokens.c.token_hash)).scalars().all()

    assert len(stored) == 1
    assert grant.refresh_token not in stored[0]


def test_reused_refresh_token_revokes_the_whole_family(
    tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner
    first = tokens.grant(client)
    second = tokens.refresh(first.refresh_token, client)

    with pytest.raises(InvalidGrant):
        tokens.refresh(first.refresh_token, client)

    with pytest.raises(InvalidGrant):
        tokens.refresh(second.refresh_token, client)


def test_reuse_leaves_other_families_alone(
    tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner
    stolen, other = tokens.grant(client), tokens.grant(client)
    tokens.refresh(stolen.refresh_token, client)

    with pytest.raises(InvalidGrant):
        tokens.refresh(stolen.refresh_token, client)

    assert tokens.refresh(other.refresh_token, client).refresh_token


def test_refresh_may_narrow_the_scope_but_not_widen_it_back(
    tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner
    narrowed = tokens.refresh(
        tokens.grant(client).refresh_token, client, frozenset({"shipments:read"})
    )

    assert narrowed.scope == "shipments:read"
    with pytest.raises(InvalidScope):
        tokens.refresh(narrowed.refresh_token, client, client.scopes)


def test_refused_scope_does_not_spend_the_token(
    tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner
    grant = tokens.grant(client)

    with pytest.raises(InvalidScope):
        tokens.refresh(grant.refresh_token, client, frozenset({"transfers:write"}))

    assert tokens.refresh(grant.refresh_token, client).refresh_token


def test_refresh_token_of_another_client_is_refused(
    tokens: TokenService, registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    other, _ = registry.create("Other", "partner", ["shipments:read"])
    grant = tokens.grant(partner[0])

    with pytest.raises(InvalidGrant):
        tokens.refresh(grant.refresh_token, other)


def test_expired_refresh_token_is_refused(
    tokens: TokenService, clock: Clock, partner: tuple[ApiClient, str]
) -> None:
    grant = tokens.grant(partner[0])

    clock.advance(days=31)

    with pytest.raises(InvalidGrant):
        tokens.refresh(grant.refresh_token, partner[0])


def test_unknown_refresh_token_is_refused(
    tokens: TokenService, partner: tuple[ApiClient, str]
) -> None:
    with pytest.raises(InvalidGrant):
        tokens.refresh("not-a-token", partner[0])


def test_disabling_a_client_revokes_its_refresh_tokens(
    tokens: TokenService, registry: ClientRegistry, partner: tuple[ApiClient, str]
) -> None:
    client, _ = partner
    grant = tokens.grant(client)

    registry.disable(client.id)

    with pytest.raises(InvalidGrant):
        tokens.refresh(grant.refresh_token, client)
