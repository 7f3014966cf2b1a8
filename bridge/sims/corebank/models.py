"""spyne models of `wsdl/upstream/corebank.wsdl`, in the contract's element order."""

from __future__ import annotations

from spyne import Boolean, Date, Integer32, Long, Unicode

from bridge.sims.soap import model, optional, repeated, required

NS = "urn:corebank:payments:v1"

PostPaymentRequest = model(
    NS,
    "PostPaymentRequest",
    [
        ("debitAccountNo", required(Unicode)),
        ("creditAccountNo", required(Unicode)),
        ("creditBankCode", optional(Unicode)),
        ("amountMinor", required(Long)),
        ("currencyCode", required(Unicode)),
        ("valueDate", required(Date)),
        ("narrative", optional(Unicode)),
        ("externalRef", required(Unicode)),
    ],
)

PostPaymentResult = model(
    NS,
    "PostPaymentResult",
    [
        ("paymentId", optional(Unicode)),
        ("resultCode", required(Unicode)),
        ("resultText", required(Unicode)),
        ("postingDate", optional(Date)),
    ],
)

InquirePaymentRequest = model(NS, "InquirePaymentRequest", [("externalRef", required(Unicode))])

InquirePaymentResult = model(
    NS,
    "InquirePaymentResult",
    [
        ("found", required(Boolean)),
        ("paymentId", optional(Unicode)),
        ("resultCode", optional(Unicode)),
        ("resultText", optional(Unicode)),
        ("postingDate", optional(Date)),
    ],
)

ValidateAccountRequest = model(
    NS,
    "ValidateAccountRequest",
    [("accountNo", required(Unicode)), ("holderName", required(Unicode))],
)

ValidateAccountResult = model(
    NS,
    "ValidateAccountResult",
    [
        ("resultCode", required(Unicode)),
        ("accountStatus", optional(Unicode)),
        ("nameMatch", required(Unicode)),
        ("registeredName", optional(Unicode)),
    ],
)

GetStatementRequest = model(
    NS,
    "GetStatementRequest",
    [
        ("accountNo", required(Unicode)),
        ("fromDate", required(Date)),
        ("toDate", required(Date)),
        ("pageNo", required(Integer32)),
        ("pageSize", required(Integer32)),
    ],
)

StatementEntry = model(
    NS,
    "StatementEntry",
    [
        ("entryId", required(Unicode)),
        ("bookingDate", required(Date)),
        ("amountMinor", required(Long)),
        ("currencyCode", required(Unicode)),
        ("direction", required(Unicode)),
        ("counterpartyName", required(Unicode)),
        ("narrative", optional(Unicode)),
    ],
)

GetStatementResult = model(
    NS,
    "GetStatementResult",
    [("entry", repeated(StatementEntry)), ("hasMore", required(Boolean))],
)
