"""Simulator state lives in the database: migrated by Alembic, seeded idempotently, kept across
a restart, and never applied twice under concurrent duplicates."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from lxml import etree
from sqlalchemy import func, inspect, select
from werkzeug.test import Client
from zeep.helpers import serialize_object

from bridge.sims import controls, create_simulators, seed
from bridge.store.db import alembic_config, make_engine, migrate, migration_state
from bridge.store.sim_tables import sim_accounts, sim_employees, sim_entries
from bridge.store.tables import metadata
from tests.common.sims import NS_ENV, SimServer
from tests.sims.messages import BAKERY, GROSSMANN

POST_PAYMENT = f"""<soap:Envelope xmlns:soap="{NS_ENV}"><soap:Body>
<PostPayment xmlns="urn:corebank:payments:v1">
  <debitAccountNo>{BAKERY}</debitAccountNo><creditAccountNo>{GROSSMANN}</creditAccountNo>
  <amountMinor>4200</amountMinor><currencyCode>EUR</currencyCode>
  <valueDate>2025-06-02</valueDate><externalRef>RESTART-1</externalRef>
</PostPayment></soap:Body></soap:Envelope>""".encode()


def _post_payment(apps: dict[str, Any]) -> bytes:
    response = Client(apps["/sims/corebank"]).post(
        "/", data=POST_PAYMENT, content_type="text/xml; charset=utf-8"
    )
    assert response.status_code == 200, response.text
    body = etree.fromstring(response.data).find(f"{{{NS_ENV}}}Body")
    assert body is not None
    return etree.tostring(body, method="c14n")


def _balance(engine: Any, account: str) -> int:
    with engine.connect() as connection:
        query = select(sim_accounts.c.balance_minor).where(sim_accounts.c.account_no == account)
        return int(connection.execute(query).scalar_one())


def _only_sim_tables(obj: Any, name: str | None, type_: str, reflected: bool, compare: Any) -> bool:
    return type_ != "table" or bool(name and name.startswith("sim_"))


def test_the_migration_matches_the_sim_tables_exactly(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)

    with engine.connect() as connection:
        options = {"compare_type": True, "include_object": _only_sim_tables}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {name for name in metadata.tables if name.startswith("sim_")} <= tables


def test_the_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)

    command.downgrade(alembic_config(engine), "base")
    with engine.connect() as connection:
        assert not [t for t in inspect(connection).get_table_names() if t.startswith("sim_")]
    migrate(engine)
    current, head = migration_state(engine)
    assert current == head


def test_sim_tables_import_on_their_own_without_a_cycle() -> None:
    code = "import bridge.store.sim_tables as s; print(s.sim_calls.metadata is s.metadata)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "True"


def test_seeding_twice_changes_nothing_and_keeps_what_happened_since(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate(engine)
    apps = create_simulators(engine, "http://sims.test")
    _post_payment(apps)

    seed(engine)
    seed(engine)

    with engine.connect() as connection:
        counts = [
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (sim_accounts, sim_entries, sim_employees)
        ]
    assert counts == [10, 18 + 2, 4]
    assert _balance(engine, BAKERY) == 2_500_000 - 4200


def test_a_restarted_process_remembers_every_effect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    migrate(engine)
    first = _post_payment(create_simulators(engine, "http://sims.test"))
    engine.dispose()

    restarted = make_engine(url)
    migrate(restarted)
    again = _post_payment(create_simulators(restarted, "http://sims.test"))

    assert again == first
    assert _balance(restarted, BAKERY) == 2_500_000 - 4200
    calls = controls(restarted)["corebank"].calls("PostPayment")
    assert [call["duplicate"] for call in calls] == [False, True]


def test_concurrent_duplicates_apply_once(sim_server: SimServer) -> None:
    service = sim_server.client("corebank").service
    request = {
        "debitAccountNo": BAKERY,
        "creditAccountNo": GROSSMANN,
        "amountMinor": 1000,
        "currencyCode": "EUR",
        "valueDate": "2025-06-02",
        "externalRef": "CONCURRENT-1",
    }
    before = _balance(sim_server.engine, BAKERY)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: service.PostPayment(**request), range(16)))

    answers = {tuple(serialize_object(r).items()) for r in results}
    assert len(answers) == 1
    assert _balance(sim_server.engine, BAKERY) == before - 1000
    calls = sim_server.controls["corebank"].calls("PostPayment")
    assert sorted(call["duplicate"] for call in calls) == [False] + [True] * 15
    assert len(sim_server.controls["corebank"].effects()) == 1
