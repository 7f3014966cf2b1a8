"""Error classes state what sets them apart as class keywords (`bridge.domain.errors`)."""

from __future__ import annotations

import pytest

from bridge.domain.errors import (
    AuthenticationFailed,
    BodyTooLarge,
    ExpiredToken,
    InvalidClient,
    OAuthError,
    UpstreamTimeout,
)


def test_a_keyword_sets_the_label_and_subclasses_inherit_it() -> None:
    assert UpstreamTimeout.kind == "upstream-timeout"
    assert BodyTooLarge.kind == "hostile-document"  # a kind of its own it does not need


def test_labels_of_several_levels_combine() -> None:
    assert (ExpiredToken.kind, ExpiredToken.reason) == ("invalid-token", "expired")
    assert (InvalidClient.kind, InvalidClient.reason, InvalidClient.error) == (
        "oauth-error",
        "invalid",
        "invalid_client",
    )


def test_a_label_no_base_declares_is_refused() -> None:
    with pytest.raises(TypeError, match="'error' is not a label"):
        type("Misfiled", (AuthenticationFailed,), {}, error="invalid_grant")


def test_a_label_of_a_subclass_leaves_its_base_alone() -> None:
    assert OAuthError.error == "invalid_request"
    assert AuthenticationFailed.kind == "authentication-failed"
