"""`/api/v1/accounts/{account}`: check an account holder's name, list booked transactions.

`{account}` is an IBAN when it looks like one (two letters, two digits, 11 to 30 letters or
digits) and another account identifier otherwise, the same rule the mapping layer applies to
core banking's bare account numbers.

Anyone with `accounts:read` may verify a holder's name; a statement (counterparties, amounts)
only its holder: a partner the accounts linked to its client or organisation
(`bridge.security.links`), a private client every account, a public client none (403).
"""

from __future__ import annotations

from datetime import date

from flask import Response
from pydantic import Field

from bridge.domain import AccountVerificationRequest, Transaction, TransactionsQuery
from bridge.mapping.scalars import parse_account_no
from bridge.rest import cursor
from bridge.rest.auth import principal, protect
from bridge.rest.blueprint import resource
from bridge.rest.fields import SparseFields, fields_parameter
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import answers, request_body
from bridge.rest.params import Parameters, cursor_parameter, limit_parameter
from bridge.rest.schemas import JsonBody, TransactionList, VerificationRequest
from bridge.rest.wire import bridge, canonical_response, correlation_id, page_response

accounts = resource("accounts", __name__, "Account checks and statements")

VERIFICATION_REQUEST = JsonBody(VerificationRequest)
TRANSACTION_FIELDS = SparseFields(Transaction)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # core banking's largest page


class AccountPath(Parameters):
    account: str = Field(
        pattern=r"^[A-Za-z0-9]{1,34}$",
        description="IBAN or other account identifier, 1 to 34 letters and digits",
    )


class TransactionsParams(Parameters):
    from_date: date = Field(description="First booking date, inclusive")
    to_date: date = Field(description="Last booking date, inclusive")
    limit: int = limit_parameter(DEFAULT_LIMIT, MAX_LIMIT, "Transactions")
    cursor: str | None = cursor_parameter(
        "The `next_cursor` of the previous page; only with the same account, dates and limit"
    )
    fields: str | None = fields_parameter("tx_id,amount.amount", of="of each transaction")


@accounts.post(
    "/accounts/<account>/verification",
    operation_id="verifyAccount",
    summary="Verify an account holder's name",
    description="`MTCH` the name matches, `CMTC` a close match (see `suggested_name`), `NMTC` "
    "no match, `NOAP` the account is unknown. Nothing changes; it is a POST because it sends "
    "a name, which does not belong in a URL.",
    responses=answers(
        "AccountVerification", "Whether the name matches the account's holder", 415, 502, 503
    ),
    openapi_extensions=request_body(VERIFICATION_REQUEST, "The name to check"),
)
@idempotent
@protect("accounts:read", "public", "partner", "private")
def verify_account(path: AccountPath) -> Response:
    """Asks core banking every time: a holder's name or an account's status can change."""
    body = VERIFICATION_REQUEST.read()
    request = AccountVerificationRequest(account=parse_account_no(path.account), name=body.name)
    bridge().contracts.check("banking/account_verification_request", request)
    verification = bridge().banking.verify_account(request, correlation_id=correlation_id())
    return canonical_response(verification)


@accounts.get(
    "/accounts/<account>/transactions",
    operation_id="listTransactions",
    summary="List an account's booked transactions",
    description="Pages hold at most `limit` transactions; pass `next_cursor` as `cursor` for "
    "the next page, with the same dates and limit. `next_cursor` is null on the last page. "
    "Partners read the accounts linked to their client or organisation (any other account is "
    "404, like an unknown one); private clients read every account.",
    responses=answers("TransactionList", "One page of booked transactions", 404, 502, 503),
)
@protect("accounts:read", "partner", "private")
def list_transactions(path: AccountPath, query: TransactionsParams) -> Response:
    """Core banking pages by number; the cursor carries the number, bound to this query."""
    fields = TRANSACTION_FIELDS.parse(query.fields)
    digest = cursor.query_digest(path.account, query.from_date, query.to_date, query.limit)
    page_number = 1 if query.cursor is None else cursor.decode(query.cursor, digest)
    page = bridge().banking.transactions(
        TransactionsQuery(
            account=parse_account_no(path.account),
            from_date=query.from_date,
            to_date=query.to_date,
            page_number=page_number,
            page_size=query.limit,
        ),
        may_read=bridge().security.links.reader(principal()),
        correlation_id=correlation_id(),
    )
    next_cursor = cursor.encode(page_number + 1, digest) if page.more_data else None
    listed = TransactionList(transactions=page.transactions, next_cursor=next_cursor)
    return page_response(listed, "transactions", fields)
