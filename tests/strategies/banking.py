"""Canonical banking messages that fit wsdl/banking.wsdl."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bridge.domain import (
    AccountStatus,
    AccountVerification,
    AccountVerificationRequest,
    ChargeBearer,
    CreditDebit,
    Party,
    StatusReason,
    Transaction,
    TransactionPage,
    TransactionsQuery,
    TransferRequest,
    TransferResult,
    TransferStatus,
    TransferStatusQuery,
    VerificationResult,
)
from tests.strategies.common import ACCOUNTS, BICS, DATES, DATETIMES, money, names, xml_text

# MessageIdentification: 1 to 35 characters, no control or format characters, no line or
# paragraph separators, no space at either end. U+17B4/U+17B5 were format characters in the
# Unicode tables libxml2 validates with (now marks): left out so both views agree.
MSG_IDS = (
    st.text(
        st.characters(
            codec="utf-8",
            exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"),
            exclude_characters="\u17b4\u17b5",
        ),
        min_size=1,
        max_size=35,
    )
    .map(str.strip)
    .filter(bool)
)
TX_IDS = xml_text(1, 35)
REMITTANCE = xml_text(1, 140)  # Max140Text

PARTIES = st.builds(Party, name=names(70), account=ACCOUNTS, bic=st.none() | BICS)

STATUS_REASONS = st.builds(
    StatusReason,
    code=st.from_regex(r"[A-Z0-9]{4}", fullmatch=True),  # StatusReasonCode
    additional_info=st.none() | xml_text(1, 105),  # Max105Text
)

TRANSFER_RESULTS = st.builds(
    TransferResult,
    tx_id=TX_IDS,
    msg_id=MSG_IDS,
    status=st.sampled_from(TransferStatus),
    reason=st.none() | STATUS_REASONS,
    booking_date=st.none() | DATES,
)

TRANSACTIONS = st.builds(
    Transaction,
    tx_id=TX_IDS,
    booking_date=DATES,
    amount=money(),
    credit_debit=st.sampled_from(CreditDebit),
    counterparty_name=names(70),
    remittance_info=st.none() | REMITTANCE,
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    TransferRequest: st.builds(
        TransferRequest,
        msg_id=MSG_IDS,
        created_at=DATETIMES,
        requested_execution_date=st.none() | DATES,
        amount=money(),
        debtor=PARTIES,
        creditor=PARTIES,
        remittance_info=st.none() | REMITTANCE,
        charge_bearer=st.none() | st.sampled_from(ChargeBearer),
    ),
    TransferResult: TRANSFER_RESULTS,
    # An xs:choice: exactly one of the two identifiers.
    TransferStatusQuery: st.one_of(
        st.builds(TransferStatusQuery, msg_id=MSG_IDS),
        st.builds(TransferStatusQuery, tx_id=TX_IDS),
    ),
    AccountVerificationRequest: st.builds(
        AccountVerificationRequest, account=ACCOUNTS, name=names(70)
    ),
    AccountVerification: st.builds(
        AccountVerification,
        result=st.sampled_from(VerificationResult),
        suggested_name=st.none() | names(70),
        account_status=st.none() | st.sampled_from(AccountStatus),
    ),
    TransactionsQuery: st.builds(
        TransactionsQuery,
        account=ACCOUNTS,
        from_date=DATES,
        to_date=DATES,
        page_number=st.integers(1, 2**31 - 1),  # PageNumber: xs:int >= 1
        page_size=st.integers(1, 500),  # PageSize
    ),
    TransactionPage: st.builds(
        TransactionPage,
        transactions=st.lists(TRANSACTIONS, max_size=5),  # the schema allows up to 500
        more_data=st.booleans(),
    ),
}
