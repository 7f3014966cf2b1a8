"""The core banking seed (`data/corebank_accounts.yaml`): accounts, balances, past entries.

Seeding inserts what is missing and leaves existing rows alone, so it runs at every start-up
without undoing the payments posted since; a reset deletes the ledger and seeds it afresh.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from bridge.sims.context import data_file
from bridge.sims.control import table_state
from bridge.store.sim_tables import sim_accounts, sim_entries

SEED_FILE = "corebank_accounts.yaml"


def seed_ledger(connection: Connection) -> None:
    accounts: list[dict[str, Any]] = data_file(SEED_FILE)["accounts"]
    known = set(connection.execute(select(sim_accounts.c.account_no)).scalars())
    booked = set(connection.execute(select(sim_entries.c.entry_id)).scalars())
    for account in accounts:
        number = str(account["account_no"])
        if number not in known:
            connection.execute(
                insert(sim_accounts).values(
                    account_no=number,
                    holder=account["holder"],
                    currency=account["currency"],
                    balance_minor=int(account["balance_minor"]),
                    status=account["status"],
                )
            )
        for entry in account.get("entries", []):
            if entry["entry_id"] in booked:
                continue
            connection.execute(
                insert(sim_entries).values(
                    entry_id=entry["entry_id"],
                    account_no=number,
                    booking_date=entry["booking_date"],
                    amount_minor=int(entry["amount_minor"]),
                    currency=account["currency"],
                    direction=entry["direction"],
                    counterparty_name=entry["counterparty_name"],
                    narrative=entry.get("narrative"),
                )
            )


def reset_ledger(connection: Connection) -> None:
    connection.execute(delete(sim_entries))
    connection.execute(delete(sim_accounts))
    seed_ledger(connection)


def bank_data() -> dict[str, Any]:
    bank: dict[str, Any] = data_file(SEED_FILE)["bank"]
    return bank


def accounts_state(connection: Connection) -> dict[str, Any]:
    columns = ("account_no", "holder", "currency", "balance_minor", "status")
    return {"accounts": table_state(connection, sim_accounts, "account_no", columns)}
