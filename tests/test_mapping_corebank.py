"""The core banking mappings (mappings/corebank/, wsdl/upstream/corebank.wsdl): integer minor
units, two-digit result codes as ISO 20022 status and reason, bare account numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bridge.domain import (
    AccountRef,
    AccountStatus,
    AccountValidation,
    AccountValidationResult,
    CreditDebit,
    Money,
    PaymentInquiryResult,
    PaymentPosting,
    PostingResult,
    Transaction,
    TransactionPage,
    TransferStatus,
    VerificationResult,
)
from bridge.domain.corebank import TRANSIENT_REASON
from bridge.domain.errors import MappingError
from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema

ALL = Mappings.load()
SCHEMA = contract_schema("corebank")
NS = "urn:corebank:payments:v1"


def doc(element: str, body: str) -> bytes:
    return f'<{element} xmlns="{NS}">{body}</{element}>'.encode()


def read(name: str, data: bytes) -> object:
    document = xml.parse(data)
    SCHEMA.assertValid(document)
    return ALL[name].read(document)


def write(name: str, message: object) -> str:
    text = ALL[name].write_text(message)
    SCHEMA.assertValid(xml.parse(text.encode()))
    return text


def posting(**changes: object) -> PaymentPosting:
    fields: dict[str, object] = {
        "debit_account": AccountRef(iban="DE89370400440532013000"),
        "credit_account": AccountRef(other_id="0071000123456"),
        "amount": Money(amount=Decimal("12.50"), currency="EUR"),
        "value_date": date(2025, 6, 2),
        "external_ref": "MSG-20250602-000001",
    }
    fields.update(changes)
    return PaymentPosting(**fields)  # type: ignore[arg-type]


def statement_entry(amount_minor: str, currency: str) -> bytes:
    return doc(
        "GetStatementResponse",
        "<entry><entryId>E1</entryId><bookingDate>2025-05-02</bookingDate>"
        f"<amountMinor>{amount_minor}</amountMinor><currencyCode>{currency}</currencyCode>"
        "<direction>C</direction><counterpartyName>山田 太郎</counterpartyName></entry>"
        "<hasMore>false</hasMore>",
    )


def one_transaction(amount: Money) -> TransactionPage:
    return TransactionPage(
        transactions=[
            Transaction(
                tx_id="E1",
                booking_date=date(2025, 5, 2),
                amount=amount,
                credit_debit=CreditDebit.DBIT,
                counterparty_name="Bäckerei Müller GmbH",
            )
        ]
    )


# -- minor units -----------------------------------------------------------------------------------

MINOR_UNITS = [("JPY", "1250"), ("VND", "1250"), ("EUR", "12.50"), ("BHD", "1.250")]


@pytest.mark.parametrize(("currency", "major"), MINOR_UNITS)
def test_an_amount_in_minor_units_is_read_as_the_exact_major_amount(
    currency: str, major: str
) -> None:
    page = read("corebank/statement", statement_entry("1250", currency))
    assert isinstance(page, TransactionPage)
    amount = page.transactions[0].amount
    assert amount == Money(amount=Decimal(major), currency=currency)
    assert str(amount.amount) == major  # the currency's minor units as the exponent


@pytest.mark.parametrize(("currency", "major"), MINOR_UNITS)
def test_a_major_amount_is_written_in_integer_minor_units(currency: str, major: str) -> None:
    money = Money(amount=Decimal(major), currency=currency)
    text = write("corebank/statement", one_transaction(money))
    assert f"<amountMinor>1250</amountMinor><currencyCode>{currency}</currencyCode>" in text


@pytest.mark.parametrize(("currency", "major"), MINOR_UNITS)
def test_a_posted_payment_carries_its_amount_in_minor_units_both_ways(
    currency: str, major: str
) -> None:
    message = posting(amount=Money(amount=Decimal(major), currency=currency))
    text = write("corebank/post_payment", message)
    assert f"<amountMinor>1250</amountMinor><currencyCode>{currency}</currencyCode>" in text
    assert read("corebank/post_payment", text.encode()) == message


def test_an_amount_finer_than_its_currency_is_refused_by_the_writer_naming_the_canonical_path() -> (
    None
):
    message = posting(amount=Money(amount=Decimal("12.345"), currency="EUR"))
    with pytest.raises(MappingError) as caught:
        ALL["corebank/post_payment"].write(message)
    assert caught.value.path == "amount"
    assert caught.value.expected == "at most 2 decimals for EUR"
    assert caught.value.got == "12.345"


def test_a_currency_unknown_to_iso_4217_is_refused_by_the_reader() -> None:
    with pytest.raises(MappingError) as caught:
        ALL["corebank/statement"].read(xml.parse(statement_entry("1250", "XEU")))
    assert caught.value.path == "GetStatementResponse/entry[1]/amountMinor"
    assert caught.value.got == "XEU"


# -- result codes ----------------------------------------------------------------------------------

RESULT_CODES = [
    ("00", TransferStatus.ACSC, None),
    ("09", TransferStatus.PDNG, None),
    ("14", TransferStatus.RJCT, "AC01"),
    ("51", TransferStatus.RJCT, "AM04"),
    ("91", TransferStatus.RJCT, "AB07"),
]


@pytest.mark.parametrize(("code", "status", "reason"), RESULT_CODES)
def test_each_result_code_maps_to_its_iso_status_and_reason_and_back(
    code: str, status: TransferStatus, reason: str | None
) -> None:
    data = doc("PostPaymentResponse", f"<resultCode>{code}</resultCode><resultText>t</resultText>")
    result = read("corebank/post_payment_result", data)
    assert result == PostingResult(status=status, reason_code=reason, result_text="t")
    assert f"<resultCode>{code}</resultCode>" in write("corebank/post_payment_result", result)


@pytest.mark.parametrize(("code", "status", "reason"), RESULT_CODES)
def test_an_inquiry_maps_the_same_result_codes(
    code: str, status: TransferStatus, reason: str | None
) -> None:
    data = doc("InquirePaymentResponse", f"<found>true</found><resultCode>{code}</resultCode>")
    result = read("corebank/inquire_payment_result", data)
    assert result == PaymentInquiryResult(found=True, status=status, reason_code=reason)
    assert f"<resultCode>{code}</resultCode>" in write("corebank/inquire_payment_result", result)


@pytest.mark.parametrize(("code", "transient"), [(c, c == "91") for c, _, _ in RESULT_CODES])
def test_only_system_unavailable_is_transient(code: str, transient: bool) -> None:
    data = doc("PostPaymentResponse", f"<resultCode>{code}</resultCode><resultText>t</resultText>")
    result = read("corebank/post_payment_result", data)
    assert isinstance(result, PostingResult)
    assert result.transient is transient
    assert (result.reason_code == TRANSIENT_REASON) is transient


def test_an_unknown_result_code_is_a_mapping_error_naming_result_code() -> None:
    data = doc("PostPaymentResponse", "<resultCode>77</resultCode><resultText>?</resultText>")
    with pytest.raises(MappingError) as caught:
        ALL["corebank/post_payment_result"].read(xml.parse(data))
    assert caught.value.path == "PostPaymentResponse/resultCode"
    assert caught.value.got == "77"
    assert "00, 09, 14, 51, 91" in caught.value.expected


def test_a_status_and_reason_core_banking_has_no_code_for_are_refused_by_the_writer() -> None:
    result = PostingResult(status=TransferStatus.RJCT, reason_code="AM05", result_text="t")
    with pytest.raises(MappingError) as caught:
        ALL["corebank/post_payment_result"].write(result)
    assert caught.value.path == "status, reason_code"
    assert caught.value.got == "RJCT/AM05"


def test_an_inquiry_without_a_result_code_is_read_without_status() -> None:
    result = read(
        "corebank/inquire_payment_result", doc("InquirePaymentResponse", "<found>false</found>")
    )
    assert result == PaymentInquiryResult(found=False)


def test_an_inquiry_without_a_result_code_is_written_without_one() -> None:
    text = write("corebank/inquire_payment_result", PaymentInquiryResult(found=False))
    assert (
        text
        == f'<InquirePaymentResponse xmlns="{NS}"><found>false</found></InquirePaymentResponse>'
    )


# -- account numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "account"),
    [
        ("DE89370400440532013000", AccountRef(iban="DE89370400440532013000")),
        ("BH67BMAG00001299123456", AccountRef(iban="BH67BMAG00001299123456")),
        ("0071000123456", AccountRef(other_id="0071000123456")),
        ("123456", AccountRef(other_id="123456")),
    ],
)
def test_an_iban_shaped_account_number_is_an_iban_and_a_local_one_an_other_id(
    number: str, account: AccountRef
) -> None:
    data = doc(
        "ValidateAccount", f"<accountNo>{number}</accountNo><holderName>Nguyễn Văn An</holderName>"
    )
    validation = read("corebank/validate_account", data)
    assert validation == AccountValidation(account=account, holder_name="Nguyễn Văn An")
    assert f"<accountNo>{number}</accountNo>" in write("corebank/validate_account", validation)


# -- account validation and statements -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "<resultCode>00</resultCode><accountStatus>OPEN</accountStatus>"
            "<nameMatch>FULL</nameMatch>",
            AccountValidationResult(
                known=True, account_status=AccountStatus.ACTV, name_match=VerificationResult.MTCH
            ),
        ),
        (
            "<resultCode>00</resultCode><accountStatus>CLOSED</accountStatus>"
            "<nameMatch>PARTIAL</nameMatch><registeredName>Jürgen Großmann</registeredName>",
            AccountValidationResult(
                known=True,
                account_status=AccountStatus.CLSD,
                name_match=VerificationResult.CMTC,
                registered_name="Jürgen Großmann",
            ),
        ),
        (
            "<resultCode>00</resultCode><accountStatus>BLOCKED</accountStatus>"
            "<nameMatch>NONE</nameMatch>",
            AccountValidationResult(
                known=True, account_status=AccountStatus.BLCK, name_match=VerificationResult.NMTC
            ),
        ),
        (
            "<resultCode>14</resultCode><nameMatch>NONE</nameMatch>",
            AccountValidationResult(known=False, name_match=VerificationResult.NMTC),
        ),
    ],
)
def test_a_validation_answer_maps_to_iso_account_status_and_name_match_and_back(
    body: str, expected: AccountValidationResult
) -> None:
    data = doc("ValidateAccountResponse", body)
    result = read("corebank/validate_account_result", data)
    assert result == expected
    assert write("corebank/validate_account_result", result) == data.decode()


def test_a_name_match_core_banking_cannot_say_is_refused_by_the_writer() -> None:
    result = AccountValidationResult(known=False, name_match=VerificationResult.NOAP)
    with pytest.raises(MappingError) as caught:
        ALL["corebank/validate_account_result"].write(result)
    assert caught.value.path == "name_match"


@pytest.mark.parametrize(
    ("direction", "credit_debit"), [("C", CreditDebit.CRDT), ("D", CreditDebit.DBIT)]
)
def test_an_entry_direction_maps_to_credit_or_debit(
    direction: str, credit_debit: CreditDebit
) -> None:
    data = statement_entry("999", "EUR").replace(
        b"<direction>C<", f"<direction>{direction}<".encode()
    )
    page = read("corebank/statement", data)
    assert isinstance(page, TransactionPage)
    assert page.transactions[0].credit_debit is credit_debit
    assert f"<direction>{direction}</direction>" in write("corebank/statement", page)


def test_a_statement_request_reads_page_number_and_size() -> None:
    data = doc(
        "GetStatement",
        "<accountNo>0071000123456</accountNo><fromDate>2025-01-01</fromDate>"
        "<toDate>2025-06-30</toDate><pageNo>3</pageNo><pageSize>500</pageSize>",
    )
    query = read("corebank/statement_request", data)
    assert (query.page_number, query.page_size) == (3, 500)  # type: ignore[attr-defined]
    assert query.account == AccountRef(other_id="0071000123456")  # type: ignore[attr-defined]
