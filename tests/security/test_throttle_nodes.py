"""Two real `bridge serve` nodes on one Redis: wrong secrets sent to either node add up to one
count per client id, so the lock-out holds on both."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from bridge.store.db import make_engine
from tests.credentials import Credentials, grant
from tests.served import Served, bridge_serve

pytestmark = [pytest.mark.redis, pytest.mark.slow]

LIMIT = 4


@pytest.fixture
def nodes(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[list[Served]]:
    """Two nodes sharing a database file, the signing keys and the Redis counts."""
    env = {
        "BRIDGE_REDIS_URL": redis_url,
        "BRIDGE_RATE_LIMIT_PREFIX": redis_prefix,
        "BRIDGE_AUTH_FAILURE_LIMIT": str(LIMIT),
        "BRIDGE_WORKERS": "1",
    }
    with ExitStack() as stack:
        # One after the other: the first migrates the database and makes the signing key.
        yield [stack.enter_context(bridge_serve(tmp_path, env)) for _ in range(2)]


@pytest.fixture
def bank(nodes: list[Served], tmp_path: Path) -> Iterator[Credentials]:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'bridge.db'}")
    try:
        yield grant(engine, tier="partner", organisation="bank-a")
    finally:
        engine.dispose()


def _token(node: Served, client_id: str, secret: str) -> requests.Response:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return requests.post(
        f"{node.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
        timeout=15,
    )


def test_wrong_secrets_spread_over_two_nodes_lock_the_client_out_on_both(
    nodes: list[Served], bank: Credentials
) -> None:
    answers = [_token(nodes[n % 2], bank.client.id, f"guess-{n}") for n in range(LIMIT + 2)]

    assert [a.status_code for a in answers] == [401] * LIMIT + [429, 429]
    for node in nodes:
        refused = _token(node, bank.client.id, bank.secret)
        assert refused.status_code == 429, node.url
        assert refused.json()["error"] == "temporarily_unavailable"
        assert 1 <= int(refused.headers["Retry-After"]) <= 300
