"""Credentials no client was ever given (NUL, control characters, another shape) are refused
as credentials, 401, before any of their text reaches a database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.common.live import LiveBridge, serve_bridge

HOSTILE_KEYS = ["bk_a\x00b_secret", "bk_\u202e0123456789ab_x", "bk_0123456789ab", "cl_x\x00"]


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    database = tmp_path_factory.mktemp("hostile") / "bridge.db"
    with serve_bridge(default_credentials=False, database_url=f"sqlite:///{database}") as live:
        yield live


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_a_malformed_api_key_is_an_invalid_credential(anonymous: LiveBridge, key: str) -> None:
    answer = requests.get(
        f"{anonymous.url}/api/v1/transfers/X", headers={"X-API-Key": key.encode()}, timeout=15
    )

    assert answer.status_code == 401, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("client_id", ["cl_x\x00y", "cl_\u202eabc", "../cl_1"])
def test_a_malformed_client_id_at_the_token_endpoint_is_invalid_client(
    anonymous: LiveBridge, client_id: str
) -> None:
    answer = requests.post(
        f"{anonymous.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
        timeout=15,
    )

    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "invalid_client"
