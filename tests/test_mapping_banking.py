"""The banking mappings as a partner bank sees them: what a refused field's error says, and the
exact amounts that come out. Documents are the samples under tests/data/samples/banking/, changed
in one place per test."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from bridge.domain import (
    Money,
    StatusReason,
    TransactionPage,
    TransferResult,
    TransferStatus,
    TransferStatusQuery,
)
from bridge.domain.errors import MappingError
from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples" / "banking"
VARIANTS = DATA / "mapping" / "banking"
NS = {"bk": "urn:bridge:banking:v1"}
ALL = Mappings.load()
SCHEMA = contract_schema("banking")


def sample(name: str) -> Any:
    return xml.parse((SAMPLES / f"{name}.xml").read_bytes())


def node(document: Any, path: str) -> Any:
    found = document.find(path, NS)
    assert found is not None, path
    return found


def refusal(spec: str, document: Any) -> MappingError:
    with pytest.raises(MappingError) as caught:
        ALL[f"banking/{spec}"].read(document)
    return caught.value


def transfer_with_amount(amount: str, currency: str) -> Any:
    document = sample("transfer_request__minimal")
    node(document, "bk:Amt").text = amount
    node(document, "bk:Amt").set("Ccy", currency)
    return document


# -- amounts and currencies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("12.345", "EUR", "at most 2 decimals for EUR"),
        ("1.5", "JPY", "at most 0 decimals for JPY"),
        ("2500.5", "VND", "at most 0 decimals for VND"),
        ("0.0005", "BHD", "at most 3 decimals for BHD"),
    ],
)
def test_amount_with_more_decimals_than_currency_allows_is_refused_with_its_path(
    amount: str, currency: str, expected: str
) -> None:
    error = refusal("transfer_request", transfer_with_amount(amount, currency))

    assert (error.path, error.expected, error.got) == ("TransferFunds/Amt", expected, amount)
    assert str(error) == f"TransferFunds/Amt: expected {expected}, got '{amount}'"


def test_schema_allows_three_decimals_in_any_currency_so_the_mapping_refuses_12_345_eur() -> None:
    document = transfer_with_amount("12.345", "EUR")

    assert SCHEMA.validate(document)
    assert refusal("transfer_request", document).expected == "at most 2 decimals for EUR"


def test_amount_in_a_currency_missing_from_iso4217_is_refused() -> None:
    error = refusal("transfer_request", transfer_with_amount("100.00", "ABC"))

    assert str(error) == "TransferFunds/Amt: expected an ISO 4217 currency code, got 'ABC'"


def test_amount_without_its_currency_attribute_is_refused() -> None:
    document = sample("transfer_request__minimal")
    del node(document, "bk:Amt").attrib["Ccy"]

    error = refusal("transfer_request", document)

    assert (error.path, error.expected, error.got) == ("TransferFunds/Amt", "a currency code", None)


@pytest.mark.parametrize(
    ("amount", "currency", "canonical", "minor_units"),
    [
        ("1250", "EUR", "1250.00", 2),
        ("1250.5", "EUR", "1250.50", 2),
        ("150000", "JPY", "150000", 0),
        ("1500.0", "JPY", "1500", 0),
        ("25000000", "VND", "25000000", 0),
        ("12.5", "BHD", "12.500", 3),
        ("0.001", "KWD", "0.001", 3),
    ],
)
def test_amount_is_a_decimal_carrying_exactly_its_currencys_minor_units(
    amount: str, currency: str, canonical: str, minor_units: int
) -> None:
    money = ALL["banking/transfer_request"].read(transfer_with_amount(amount, currency)).amount

    assert type(money.amount) is Decimal
    assert str(money.amount) == canonical
    assert money.amount.as_tuple().exponent == -minor_units


def test_statement_amounts_keep_each_currencys_minor_units() -> None:
    page = ALL["banking/transactions_response"].read(sample("transactions_response__full"))

    assert [(str(tx.amount.amount), tx.amount.currency) for tx in page.transactions] == [
        ("150000", "JPY"),
        ("19.99", "EUR"),
        ("1250.125", "BHD"),
        ("25000000", "VND"),
    ]


def _json(value: Any) -> str:
    def default(item: Any) -> str:
        if isinstance(item, Decimal):
            return str(item)
        if isinstance(item, date):
            return item.isoformat()
        raise TypeError(f"not JSON-able: {item!r}")

    return json.dumps(dataclasses.asdict(value), default=default, ensure_ascii=False)


def _no_floats(text: str) -> float:
    raise AssertionError(f"a float in the canonical JSON: {text}")


def test_canonical_amounts_serialise_to_json_as_exact_decimal_strings_never_floats() -> None:
    page = ALL["banking/transactions_response"].read(sample("transactions_response__full"))

    as_json = json.loads(_json(page), parse_float=_no_floats)

    assert [tx["amount"] for tx in as_json["transactions"]] == [
        {"amount": "150000", "currency": "JPY"},
        {"amount": "19.99", "currency": "EUR"},
        {"amount": "1250.125", "currency": "BHD"},
        {"amount": "25000000", "currency": "VND"},
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [("12.5", "EUR", "12.50"), ("1200", "JPY", "1200"), ("7", "BHD", "7.000")],
)
def test_writer_writes_amounts_with_the_currencys_minor_units(
    amount: str, currency: str, written: str
) -> None:
    mapping = ALL["banking/transfer_request"]
    transfer = mapping.read(sample("transfer_request__minimal"))
    transfer.amount = Money(amount=Decimal(amount), currency=currency)

    produced = xml.parse(mapping.write(transfer))

    assert node(produced, "bk:Amt").text == written
    assert node(produced, "bk:Amt").get("Ccy") == currency


def test_writer_refuses_money_with_too_many_decimals_naming_the_canonical_field() -> None:
    mapping = ALL["banking/transfer_request"]
    transfer = mapping.read(sample("transfer_request__minimal"))
    transfer.amount = Money(amount=Decimal("12.345"), currency="EUR")

    with pytest.raises(MappingError) as caught:
        mapping.write(transfer)

    assert str(caught.value) == "amount: expected at most 2 decimals for EUR, got '12.345'"


def test_writer_refuses_a_float_amount() -> None:
    mapping = ALL["banking/transfer_request"]
    transfer = mapping.read(sample("transfer_request__minimal"))
    transfer.amount = Money(amount=12.5, currency="EUR")  # type: ignore[arg-type]

    with pytest.raises(MappingError) as caught:
        mapping.write(transfer)

    assert (caught.value.path, caught.value.expected) == ("amount", "a finite decimal amount")


def test_writer_names_the_position_of_a_refused_transaction_in_the_page() -> None:
    mapping = ALL["banking/transactions_response"]
    page = mapping.read(sample("transactions_response__full"))
    page.transactions[1].amount = Money(amount=Decimal("19.999"), currency="EUR")

    with pytest.raises(MappingError) as caught:
        mapping.write(page)

    assert caught.value.path == "transactions[1].amount"


# -- dates, codes, structure ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["01.03.2025", "2025-03-01T00:00:00Z", "2025-02-30", "März"])
def test_non_date_in_from_date_is_refused_with_its_path(text: str) -> None:
    document = sample("transactions_request__iban")
    node(document, "bk:FrDt").text = text

    error = refusal("transactions_request", document)

    assert str(error) == f"GetTransactions/FrDt: expected a date YYYY-MM-DD, got '{text}'"


def test_creation_time_without_a_time_zone_is_refused_though_the_schema_allows_it() -> None:
    document = sample("transfer_request__minimal")
    node(document, "bk:CreDtTm").text = "2025-03-01T09:30:00"

    assert SCHEMA.validate(document)
    error = refusal("transfer_request", document)
    assert error.path == "TransferFunds/CreDtTm"
    assert error.expected == "a date-time with a time zone, such as 2026-11-25T10:00:00Z"
    assert error.got == "2025-03-01T09:30:00"


def test_transfer_without_a_creditor_is_refused_as_missing_a_required_element() -> None:
    document = sample("transfer_request__minimal")
    document.remove(node(document, "bk:Cdtr"))

    error = refusal("transfer_request", document)

    assert str(error) == "TransferFunds/Cdtr: expected a required element, got 'nothing'"


def test_creditor_without_a_name_is_refused_with_the_nested_path() -> None:
    document = sample("transfer_request__minimal")
    creditor = node(document, "bk:Cdtr")
    creditor.remove(node(creditor, "bk:Nm"))

    assert refusal("transfer_request", document).path == "TransferFunds/Cdtr/Nm"


def test_status_reason_without_its_code_is_refused_with_the_nested_path() -> None:
    document = sample("transfer_response__rejected")
    reason = node(document, "bk:StsRsn")
    reason.remove(node(reason, "bk:Cd"))

    assert refusal("transfer_response", document).path == "TransferFundsResponse/StsRsn/Cd"


@pytest.mark.parametrize(
    ("spec", "sample_name", "element", "value", "expected"),
    [
        (
            "transfer_response",
            "transfer_response__settled",
            "Sts",
            "DONE",
            "one of ACCP, ACSC, PDNG, RJCT",
        ),
        ("transfer_request", "transfer_request__full", "ChrgBr", "OUR", "one of DEBT, CRED, SHAR"),
        (
            "account_verification_response",
            "account_verification_response__match",
            "Rslt",
            "match",
            "one of MTCH, CMTC, NMTC, NOAP",
        ),
        (
            "account_verification_response",
            "account_verification_response__match",
            "AcctSts",
            "OPEN",
            "one of ACTV, CLSD, BLCK",
        ),
    ],
)
def test_unknown_code_is_refused_with_the_codes_allowed(
    spec: str, sample_name: str, element: str, value: str, expected: str
) -> None:
    document = sample(sample_name)
    node(document, f"bk:{element}").text = value

    error = refusal(spec, document)

    root = etree.QName(document).localname
    assert (error.path, error.expected, error.got) == (f"{root}/{element}", expected, value)


def test_unexpected_element_is_refused_with_the_elements_allowed_there() -> None:
    document = sample("account_verification_request__iban")
    etree.SubElement(document, f"{{{NS['bk']}}}Nickname").text = "Jürgen"

    error = refusal("account_verification_request", document)

    assert str(error) == (
        "VerifyAccount/Nickname: expected one of the elements Acct, Nm, got 'an unexpected element'"
    )


def test_unexpected_element_inside_an_account_names_its_nested_path() -> None:
    document = sample("account_verification_request__iban")
    etree.SubElement(node(document, "bk:Acct"), f"{{{NS['bk']}}}BBAN").text = "370400440532013000"

    error = refusal("account_verification_request", document)

    assert (error.path, error.expected) == (
        "VerifyAccount/Acct/BBAN",
        "one of the elements IBAN, Othr",
    )


def test_element_sent_twice_is_refused() -> None:
    document = sample("transfer_request__minimal")
    repeated = etree.SubElement(document, f"{{{NS['bk']}}}MsgId")
    repeated.text = "PB-20250301-000009"
    node(document, "bk:MsgId").addnext(repeated)

    error = refusal("transfer_request", document)

    assert (error.path, error.expected, error.got) == (
        "TransferFunds/MsgId",
        "this element at most once",
        "a repeated element",
    )


@pytest.mark.parametrize(
    ("tx", "change", "path", "expected"),
    [
        (
            2,
            ("bk:BookgDt", "2025-02-30"),
            "GetTransactionsResponse/Tx[2]/BookgDt",
            "a date YYYY-MM-DD",
        ),
        (1, ("bk:CdtDbtInd", "CR"), "GetTransactionsResponse/Tx[1]/CdtDbtInd", "one of CRDT, DBIT"),
        (
            4,
            ("bk:Amt", "2500.5"),
            "GetTransactionsResponse/Tx[4]/Amt",
            "at most 0 decimals for VND",
        ),
        (3, ("bk:Nm", None), "GetTransactionsResponse/Tx[3]/Nm", "a required element"),
    ],
)
def test_refused_transaction_names_its_position_in_the_page(
    tx: int, change: tuple[str, str | None], path: str, expected: str
) -> None:
    document = sample("transactions_response__full")
    transaction = document.findall("bk:Tx", NS)[tx - 1]
    element, text = change
    if text is None:
        transaction.remove(node(transaction, element))
    else:
        node(transaction, element).text = text

    error = refusal("transactions_response", document)

    assert (error.path, error.expected) == (path, expected)


# -- namespaces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant", ["transactions_response__prefixed", "transactions_response__mixed_namespaces"]
)
def test_prefixed_document_maps_like_the_default_namespace_one(variant: str) -> None:
    mapping = ALL["banking/transactions_response"]
    document = xml.parse((VARIANTS / f"{variant}.xml").read_bytes())

    assert SCHEMA.validate(document)
    assert mapping.read(document) == mapping.read(sample("transactions_response__full"))


def test_children_without_the_contract_namespace_are_refused_naming_the_namespace() -> None:
    document = xml.parse((VARIANTS / "transfer_request__unqualified_children.xml").read_bytes())

    error = refusal("transfer_request", document)

    assert (error.path, error.expected, error.got) == (
        "TransferFunds/MsgId",
        "MsgId in namespace urn:bridge:banking:v1",
        "MsgId in namespace (none)",
    )


def test_root_in_another_namespace_is_refused() -> None:
    document = etree.fromstring(
        b'<TransferFunds xmlns="urn:bridge:banking:v2"><MsgId>PB-1</MsgId></TransferFunds>'
    )

    error = refusal("transfer_request", document)

    assert error.path == "TransferFunds"
    assert error.expected == "the element TransferFunds in namespace urn:bridge:banking:v1"
    assert error.got == "{urn:bridge:banking:v2}TransferFunds"


# -- what the messages carry ----------------------------------------------------------------------


def test_status_reason_code_and_text_map_into_the_nested_reason() -> None:
    result = ALL["banking/transfer_response"].read(sample("transfer_response__rejected"))

    assert result == TransferResult(
        tx_id="TX-7f3a9c2f",
        msg_id="PB-20250301-000002",
        status=TransferStatus.RJCT,
        reason=StatusReason(
            code="AM04", additional_info="Deckung nicht ausreichend, Überweisung abgelehnt"
        ),
    )


def test_result_without_a_reason_is_written_without_status_reason() -> None:
    mapping = ALL["banking/transfer_status_response"]
    result = TransferResult(tx_id="TX-1", msg_id="PB-1", status=TransferStatus.ACCP)

    produced = xml.parse(mapping.write(result))

    assert [etree.QName(child).localname for child in produced] == ["TxId", "MsgId", "Sts"]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("by_msgid", TransferStatusQuery(msg_id="PB-20250301-000001")),
        ("by_txid", TransferStatusQuery(tx_id="TX-7f3a9c2e")),
    ],
)
def test_status_query_carries_only_the_identifier_sent(
    variant: str, expected: TransferStatusQuery
) -> None:
    document = sample(f"transfer_status_request__{variant}")

    assert ALL["banking/transfer_status_request"].read(document) == expected


def test_page_without_transactions_maps_to_an_empty_list() -> None:
    page = ALL["banking/transactions_response"].read(sample("transactions_response__empty"))

    assert page == TransactionPage(transactions=[], more_data=False)
