"""PostgreSQL connections (bridge.store.db): a pooled connection the server dropped while it sat
idle is replaced before anyone uses it, without a ping per checkout; a one-statement write
commits as it runs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import Engine, text

from bridge.store.db import IDLE_BEFORE_PING, one_statement
from bridge.store.transfers import TransferStore
from tests.common.databases import migrated_engine

pytestmark = pytest.mark.postgres
CLIENT = uuid.uuid4().hex[:8]  # the session's database outlives a test


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    yield from migrated_engine(postgres_url)


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(postgres_url: str, pid: int) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def claim(engine: Engine, msg_id: str) -> bool:
    """A new transfer of this test's own client, held by the caller."""
    _, held = TransferStore(engine).claim(
        tx_id=f"TX{CLIENT}{msg_id}",
        client_id=CLIENT,
        msg_id=msg_id,
        fingerprint="f" * 64,
        request="{}",
        door="rest",
        lease=timedelta(seconds=60),
    )
    return held


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine: Engine, postgres_url: str
) -> None:
    dropped = backend_pid(engine)
    terminate(postgres_url, dropped)
    time.sleep(IDLE_BEFORE_PING + 0.2)

    assert claim(engine, "M1")  # no error: the idle connection was pinged and replaced
    assert backend_pid(engine) != dropped


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine) -> None:
    backend_pid(engine)  # one pooled connection, just used
    statements: list[str] = []
    pinged = engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        statements.append("ping")
        return pinged(dbapi_connection)

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        for n in range(5):
            claim(engine, f"S{n}")
        assert statements == []
        time.sleep(IDLE_BEFORE_PING + 0.2)
        claim(engine, "S-late")
        assert statements == ["ping"]
    finally:
        del engine.dialect.do_ping


def test_a_one_statement_write_is_committed_when_it_returns(
    engine: Engine, postgres_url: str
) -> None:
    claim(engine, "C1")
    with one_statement(engine) as connection:
        connection.execute(
            text("UPDATE transfers SET door = 'soap' WHERE tx_id = :tx"), {"tx": f"TX{CLIENT}C1"}
        )
        # another session sees it before this block ends: the statement committed itself
        with psycopg.connect(postgres_url) as other:
            seen = other.execute(
                "SELECT door FROM transfers WHERE tx_id = %s", [f"TX{CLIENT}C1"]
            ).fetchone()
        assert seen == ("soap",)
