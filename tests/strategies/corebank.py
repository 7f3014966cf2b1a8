"""Canonical core banking messages that fit wsdl/upstream/corebank.wsdl.

`TransactionPage` (GetStatementResponse) uses the banking module's strategy, which fits this
schema too. `TransactionsQuery` (GetStatement) is narrowed here: core banking carries an account
as a bare number (an IBAN, or 6 to 20 digits), so its `other_id` can only be a local number that
cannot look like an IBAN. The narrower strategy still fits wsdl/banking.wsdl (Othr/Id is
Max34Text) and replaces the banking one in the registry (modules load in name order).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bridge.domain import (
    AccountStatus,
    AccountValidation,
    AccountValidationResult,
    PaymentInquiry,
    PaymentInquiryResult,
    PaymentPosting,
    PostingResult,
    TransactionsQuery,
    TransferStatus,
    VerificationResult,
)
from tests.strategies.common import ACCOUNT_NUMBERS, DATES, money, names, xml_text

EXTERNAL_REFS = xml_text(1, 35)  # ExternalRef
PAYMENT_IDS = xml_text(1, 35)  # PaymentId
RESULT_TEXTS = xml_text(1, 255)  # ResultText
NARRATIVES = xml_text(1, 140)  # Narrative
HOLDER_NAMES = names(140)  # HolderName
# BankCode: a BIC (8 or 11), or a local bank code of 3 to 11 digits.
BANK_CODES = st.from_regex(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?|[0-9]{3,11}", fullmatch=True)

# The (status, reason_code) pairs of mappings/codes/corebank_result.yaml: 00, 09, 14, 51, 91.
RESULTS = st.sampled_from(
    [
        (TransferStatus.ACSC, None),
        (TransferStatus.PDNG, None),
        (TransferStatus.RJCT, "AC01"),
        (TransferStatus.RJCT, "AM04"),
        (TransferStatus.RJCT, "AB07"),
    ]
)

POSTING_RESULTS = st.builds(
    lambda result, **fields: PostingResult(status=result[0], reason_code=result[1], **fields),
    RESULTS,
    payment_id=st.none() | PAYMENT_IDS,
    result_text=RESULT_TEXTS,
    posting_date=st.none() | DATES,
)

# InquirePaymentResponse: resultCode is optional (nothing posted under the externalRef).
INQUIRY_RESULTS = st.builds(
    lambda result, **fields: PaymentInquiryResult(
        status=result[0], reason_code=result[1], **fields
    ),
    RESULTS | st.just((None, None)),
    found=st.booleans(),
    payment_id=st.none() | PAYMENT_IDS,
    result_text=st.none() | RESULT_TEXTS,
    posting_date=st.none() | DATES,
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    PaymentPosting: st.builds(
        PaymentPosting,
        debit_account=ACCOUNT_NUMBERS,
        credit_account=ACCOUNT_NUMBERS,
        credit_bank_code=st.none() | BANK_CODES,
        amount=money(),  # AmountMinor: xs:long >= 1 minor unit
        value_date=DATES,
        narrative=st.none() | NARRATIVES,
        external_ref=EXTERNAL_REFS,
    ),
    PostingResult: POSTING_RESULTS,
    PaymentInquiry: st.builds(PaymentInquiry, external_ref=EXTERNAL_REFS),
    PaymentInquiryResult: INQUIRY_RESULTS,
    AccountValidation: st.builds(
        AccountValidation, account=ACCOUNT_NUMBERS, holder_name=HOLDER_NAMES
    ),
    AccountValidationResult: st.builds(
        AccountValidationResult,
        known=st.booleans(),
        account_status=st.none() | st.sampled_from(AccountStatus),
        # NOAP has no core banking word (NameMatch is FULL, PARTIAL or NONE).
        name_match=st.sampled_from(
            [VerificationResult.MTCH, VerificationResult.CMTC, VerificationResult.NMTC]
        ),
        registered_name=st.none() | HOLDER_NAMES,
    ),
    TransactionsQuery: st.builds(
        TransactionsQuery,
        account=ACCOUNT_NUMBERS,
        from_date=DATES,
        to_date=DATES,
        page_number=st.integers(1, 2**31 - 1),  # PageNo (banking: PageNumber), xs:int >= 1
        page_size=st.integers(1, 500),  # PageSize, both contracts
    ),
}
