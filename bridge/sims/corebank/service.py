"""The core banking simulator's operations, in wire form (JSON types) in and out.

- PostPayment: once per externalRef (scope "payment"); the rules are `ledger`'s. An injected
  `unavailable` fault answers 91 "System unavailable" and stores nothing, so a retry posts.
- InquirePayment: found=false when nothing was stored under the externalRef; otherwise found=true
  and the stored PostPayment result (paymentId, resultCode, resultText, postingDate).
- ValidateAccount: unknown account -> resultCode 14, nameMatch NONE; known -> 00 with the
  account status and the name match of `names`; the registered name is returned on a FULL or
  PARTIAL match only, never to a caller who does not know it.
- GetStatement: one page of `ledger.statement_page`; an unknown account is a Client fault
  `Client.UnknownAccount`, fromDate after toDate a Client fault `Client.InvalidPeriod` (the
  result has no code to say so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bridge.sims.context import Wire
from bridge.sims.corebank.ledger import (
    INVALID_ACCOUNT,
    POSTED,
    UNAVAILABLE,
    BankRules,
    find_account,
    post_payment,
    statement_page,
)
from bridge.sims.corebank.names import FULL, NONE, PARTIAL, name_match
from bridge.sims.records import Call, Recorder
from bridge.sims.soap import client_fault
from bridge.sims.wsgi import UNAVAILABLE as UNAVAILABLE_FLAG

UNAVAILABLE_RESULT: Wire = {
    "resultCode": UNAVAILABLE,
    "resultText": "System unavailable, batch window in progress",
}


@dataclass(frozen=True)
class CoreBank:
    recorder: Recorder
    rules: BankRules

    def post_payment(self, environ: dict[str, Any], request: Wire) -> Wire:
        key = request["externalRef"]
        if environ.get(UNAVAILABLE_FLAG):
            return self.recorder.record(
                environ,
                "PostPayment",
                key,
                lambda call: dict(UNAVAILABLE_RESULT),
                lambda response: _payment_summary(request, response),
            )
        return self.recorder.once(
            environ,
            "PostPayment",
            "payment",
            key,
            request,
            lambda call: post_payment(call.connection, request, self.rules),
            _payment_summary,
        )

    def inquire_payment(self, environ: dict[str, Any], request: Wire) -> Wire:
        key = request["externalRef"]

        def answer(call: Call) -> Wire:
            effect = call.stored("payment", key)
            if effect is None:
                return {"found": False}
            return {"found": True, **effect.response}

        return self.recorder.record(
            environ,
            "InquirePayment",
            key,
            answer,
            lambda response: {"outcome": response.get("resultCode", "not found")},
        )

    def validate_account(self, environ: dict[str, Any], request: Wire) -> Wire:
        def answer(call: Call) -> Wire:
            account = find_account(call.connection, request["accountNo"])
            if account is None:
                return {"resultCode": INVALID_ACCOUNT, "nameMatch": NONE}
            match = name_match(request["holderName"], account.holder)
            result: Wire = {
                "resultCode": POSTED,
                "accountStatus": account.status,
                "nameMatch": match,
            }
            if match in (FULL, PARTIAL):
                result["registeredName"] = account.holder
            return result

        return self.recorder.record(
            environ,
            "ValidateAccount",
            None,
            answer,
            lambda response: {
                "accountNo": request["accountNo"],
                "outcome": f"{response['resultCode']} {response['nameMatch']}",
            },
        )

    def get_statement(self, environ: dict[str, Any], request: Wire) -> Wire:
        from_date, to_date = (
            date.fromisoformat(request["fromDate"]),
            date.fromisoformat(request["toDate"]),
        )
        if from_date > to_date:
            raise client_fault("InvalidPeriod", "fromDate is after toDate")

        def answer(call: Call) -> Wire:
            if find_account(call.connection, request["accountNo"]) is None:
                raise client_fault("UnknownAccount", "Unknown account")
            return statement_page(
                call.connection,
                request["accountNo"],
                from_date,
                to_date,
                int(request["pageNo"]),
                int(request["pageSize"]),
            )

        return self.recorder.record(
            environ,
            "GetStatement",
            None,
            answer,
            lambda response: {
                "accountNo": request["accountNo"],
                "pageNo": request["pageNo"],
                "outcome": f"{len(response['entry'])} entries, hasMore={response['hasMore']}",
            },
        )


def _payment_summary(request: Wire, response: Wire) -> Wire:
    return {
        "debitAccountNo": request["debitAccountNo"],
        "creditAccountNo": request["creditAccountNo"],
        "amountMinor": request["amountMinor"],
        "currencyCode": request["currencyCode"],
        "outcome": response["resultCode"],
    }
