"""The core banking simulator's ledger: accounts, payments and statements.

PostPayment is decided by these rules, first match wins (result code and text):

1. debit account unknown -> 14 "Unknown debit account";
2. debit account CLOSED or BLOCKED -> 14 "Debit account is closed" / "... is blocked";
3. currencyCode other than the debit account's currency -> 14 "Currency X does not match the
   debit account currency Y" (a result, not a fault: it is the account that cannot take the
   payment, and like every result it is stored and answered again for the same externalRef);
4. credit at this bank (creditBankCode absent or one of `local_bank_codes`): credit account
   unknown, closed, blocked, in another currency, or the debit account itself -> 14;
5. amountMinor above the debit balance (no overdrafts) -> 51 "Insufficient funds";
6. credit at another bank -> 09 "Pending: forwarded to <code> for clearing", and an amount at or
   above the currency's review threshold -> 09 "Pending: ... review"; nothing is booked;
7. otherwise -> 00 "Posted": the debit account is debited, the credit account credited, one
   statement entry written on each (`<paymentId>-D`, `<paymentId>-C`), postingDate = valueDate.

The paymentId (00 and 09 only) is derived from the externalRef, so it is the same on every node.
The once-per-externalRef rule is `bridge.sims.records`'s; this module applies a first call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bridge.sims.context import Wire
from bridge.store.sim_tables import sim_accounts, sim_entries

OPEN = "OPEN"
POSTED, PENDING, INVALID_ACCOUNT, INSUFFICIENT_FUNDS, UNAVAILABLE = "00", "09", "14", "51", "91"


@dataclass(frozen=True)
class BankRules:
    local_bank_codes: frozenset[str]
    pending_threshold_minor: Mapping[str, int]
    default_pending_threshold_minor: int

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BankRules:
        return cls(
            local_bank_codes=frozenset(str(code) for code in data["local_bank_codes"]),
            pending_threshold_minor={
                str(currency): int(amount)
                for currency, amount in data["pending_threshold_minor"].items()
            },
            default_pending_threshold_minor=int(data["default_pending_threshold_minor"]),
        )

    def threshold(self, currency: str) -> int:
        return self.pending_threshold_minor.get(currency, self.default_pending_threshold_minor)

    def is_local(self, bank_code: str | None) -> bool:
        return bank_code is None or bank_code in self.local_bank_codes


@dataclass(frozen=True)
class Account:
    account_no: str
    holder: str
    currency: str
    balance_minor: int
    status: str


def payment_id(external_ref: str) -> str:
    return "PAY" + hashlib.sha256(external_ref.encode("utf-8")).hexdigest()[:16].upper()


def find_account(connection: Connection, account_no: str, *, lock: bool = False) -> Account | None:
    query = select(sim_accounts).where(sim_accounts.c.account_no == account_no)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    return Account(row.account_no, row.holder, row.currency, int(row.balance_minor), row.status)


def decide(
    payment: Wire, debit: Account | None, credit: Account | None, rules: BankRules
) -> tuple[str, str]:
    """(result code, result text) of a first PostPayment: the rules of the module docstring."""
    amount, currency = int(payment["amountMinor"]), payment["currencyCode"]
    bank_code = payment.get("creditBankCode")
    refused = _unusable("debit", debit)
    if refused:
        return INVALID_ACCOUNT, refused
    assert debit is not None
    if currency != debit.currency:
        text = f"Currency {currency} does not match the debit account currency {debit.currency}"
        return INVALID_ACCOUNT, text
    local = rules.is_local(bank_code)
    if local:
        refused = _unusable("credit", credit)
        if refused:
            return INVALID_ACCOUNT, refused
        assert credit is not None
        if credit.currency != currency:
            text = (
                f"Currency {currency} does not match the credit account currency {credit.currency}"
            )
            return INVALID_ACCOUNT, text
        if credit.account_no == debit.account_no:
            return INVALID_ACCOUNT, "Debit and credit account are the same"
    if amount > debit.balance_minor:
        return INSUFFICIENT_FUNDS, "Insufficient funds"
    if not local:
        return PENDING, f"Pending: forwarded to {bank_code} for clearing"
    if amount >= rules.threshold(currency):
        return (
            PENDING,
            f"Pending: {currency} amounts from {rules.threshold(currency)} minor units need review",
        )
    return POSTED, "Posted"


def post_payment(connection: Connection, payment: Wire, rules: BankRules) -> Wire:
    """Decide a first PostPayment and book it if posted; answer PostPaymentResult (wire)."""
    debit = find_account(connection, payment["debitAccountNo"], lock=True)
    credit = None
    if rules.is_local(payment.get("creditBankCode")):
        credit = find_account(connection, payment["creditAccountNo"], lock=True)
    code, text = decide(payment, debit, credit, rules)
    result: Wire = {"resultCode": code, "resultText": text}
    if code in (POSTED, PENDING):
        result["paymentId"] = payment_id(payment["externalRef"])
    if code == POSTED:
        assert debit is not None
        assert credit is not None
        _book(connection, result["paymentId"], payment, debit, credit)
        result["postingDate"] = payment["valueDate"]
    return result


def _unusable(side: str, account: Account | None) -> str | None:
    if account is None:
        return f"Unknown {side} account"
    if account.status != OPEN:
        return f"{side.capitalize()} account is {account.status.lower()}"
    return None


def _book(
    connection: Connection, pay_id: str, payment: Wire, debit: Account, credit: Account
) -> None:
    amount = int(payment["amountMinor"])
    for account, delta in ((debit, -amount), (credit, amount)):
        connection.execute(
            update(sim_accounts)
            .where(sim_accounts.c.account_no == account.account_no)
            .values(balance_minor=sim_accounts.c.balance_minor + delta)
        )
    booking_date = date.fromisoformat(payment["valueDate"])
    common = {
        "booking_date": booking_date,
        "amount_minor": amount,
        "currency": payment["currencyCode"],
        "narrative": payment.get("narrative"),
        "payment_id": pay_id,
    }
    connection.execute(
        insert(sim_entries),
        [
            {
                **common,
                "entry_id": f"{pay_id}-D",
                "account_no": debit.account_no,
                "direction": "D",
                "counterparty_name": credit.holder,
            },
            {
                **common,
                "entry_id": f"{pay_id}-C",
                "account_no": credit.account_no,
                "direction": "C",
                "counterparty_name": debit.holder,
            },
        ],
    )


def statement_page(
    connection: Connection,
    account_no: str,
    from_date: date,
    to_date: date,
    page_no: int,
    page_size: int,
) -> Wire:
    """One page of booked entries between two dates (inclusive), oldest first."""
    rows = connection.execute(
        select(sim_entries)
        .where(
            sim_entries.c.account_no == account_no,
            sim_entries.c.booking_date >= from_date,
            sim_entries.c.booking_date <= to_date,
        )
        .order_by(sim_entries.c.booking_date, sim_entries.c.id)
        .offset((page_no - 1) * page_size)
        .limit(page_size + 1)
    ).all()
    entries = [
        {
            "entryId": row.entry_id,
            "bookingDate": row.booking_date.isoformat(),
            "amountMinor": int(row.amount_minor),
            "currencyCode": row.currency,
            "direction": row.direction,
            "counterpartyName": row.counterparty_name,
            **({"narrative": row.narrative} if row.narrative else {}),
        }
        for row in rows[:page_size]
    ]
    return {"entry": entries, "hasMore": len(rows) > page_size}
