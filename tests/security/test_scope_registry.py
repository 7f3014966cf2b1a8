"""The scopes an app knows are its own (`Security.scopes`): the bridge's fixed ones and those
its imported services declare. Nothing is shared between apps of one process."""

from __future__ import annotations

import pytest

from bridge.security.access import SCOPES, Scopes, allow


def test_a_registry_knows_the_built_in_scopes_and_the_declared_ones() -> None:
    scopes = Scopes({"vat:call": "Call the imported service vat"})

    assert "vat:call" in scopes
    assert set(SCOPES) < set(scopes)
    assert len(scopes) == len(SCOPES) + 1


def test_declaring_scopes_in_one_registry_leaves_every_other_as_it_was() -> None:
    Scopes({"vat:call": "Call the imported service vat"})

    assert "vat:call" not in Scopes()
    assert "vat:call" not in SCOPES


def test_the_built_in_scopes_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        SCOPES["vat:call"] = "Call the imported service vat"  # type: ignore[index]


def test_a_declared_scope_never_replaces_a_built_in_description() -> None:
    scopes = Scopes({"audit:read": "something else"})

    assert scopes.described["audit:read"] == SCOPES["audit:read"]


def test_an_operation_may_name_a_scope_only_of_the_registry_it_is_declared_with() -> None:
    scopes = Scopes({"vat:call": "Call the imported service vat"})

    assert scopes.allow("vat:call", ("partner",)).scope == "vat:call"
    with pytest.raises(ValueError, match="vat:call"):
        allow("vat:call", ("partner",))
    with pytest.raises(ValueError, match="vat:call"):
        Scopes().allow("vat:call")


def test_unknown_names_the_scopes_a_registry_does_not_hold_in_order() -> None:
    scopes = Scopes({"vat:call": "Call the imported service vat"})

    assert scopes.unknown(["vat:call", "zz:top", "accounts:read", "aa:b"]) == ["aa:b", "zz:top"]
