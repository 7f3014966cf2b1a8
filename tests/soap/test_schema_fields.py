"""A request that breaks the contract is refused naming the field as the partner wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bridge.mapping.schemas import contract_validator
from bridge.soap.faults import InvalidField
from bridge.soap.schema import ContractValidator

CONTRACT_SAMPLES = Path(__file__).resolve().parents[1] / "data" / "contracts"

# Instance documents written for the contract tests -> the field a fault must name.
FIELDS = {
    "banking_bad_acct_empty.xml": "VerifyAccount/Acct",
    "banking_bad_acct_iban_and_othr.xml": "VerifyAccount/Acct/Othr",
    "banking_bad_amount_negative.xml": "TransferFunds/Amt",
    "banking_bad_amount_too_many_fraction_digits.xml": "TransferFunds/Amt",
    "banking_bad_bic_letter_o_in_location.xml": "TransferFunds/Dbtr/Agt/BICFI",
    "banking_bad_currency_lowercase.xml": "TransferFunds/Amt/@Ccy",
    "banking_bad_currency_missing.xml": "TransferFunds/Amt/@Ccy",
    "banking_bad_element_order.xml": "TransferFunds/RmtInf",
    "banking_bad_frdt_is_datetime.xml": "GetTransactions/FrDt",
    "banking_bad_iban_lowercase.xml": "TransferFunds/Dbtr/Acct/IBAN",
    "banking_bad_missing_cdtr.xml": "TransferFunds/Cdtr",
    "banking_bad_missing_nm.xml": "VerifyAccount/Nm",
    "banking_bad_msgid_too_long.xml": "TransferFunds/MsgId",
    "banking_bad_nil_not_allowed.xml": "TransferFunds/ChrgBr",
    "banking_bad_pgsz_too_large.xml": "GetTransactions/PgSz",
    "banking_bad_status_msgid_and_txid.xml": "GetTransferStatus/TxId",
    "banking_bad_status_neither_msgid_nor_txid.xml": "GetTransferStatus",
    "banking_bad_unknown_element.xml": "TransferFunds/Prty",
    "banking_bad_unqualified_children.xml": "TransferFunds/MsgId",
    "banking_bad_ustrd_too_long.xml": "TransferFunds/RmtInf/Ustrd",
}


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator(contract_validator("banking"))


def _refusal(validator: ContractValidator, name: str) -> InvalidField:
    element = etree.parse(str(CONTRACT_SAMPLES / name)).getroot()
    with pytest.raises(InvalidField) as refused:
        validator.check(element)
    return refused.value


@pytest.mark.parametrize(("name", "field"), sorted(FIELDS.items()))
def test_refusal_names_the_field_by_its_element_path(
    validator: ContractValidator, name: str, field: str
) -> None:
    assert _refusal(validator, name).field == field


def test_valid_request_passes(validator: ContractValidator) -> None:
    element = etree.parse(str(CONTRACT_SAMPLES / "banking_ok_transfer_funds_full.xml")).getroot()
    validator.check(element)


def test_reason_is_libxml2s_message_without_clark_namespaces(validator: ContractValidator) -> None:
    reason = _refusal(validator, "banking_bad_iban_lowercase.xml").reason
    assert reason == (
        "Element 'IBAN': [facet 'pattern'] The value 'de89370400440532013000' is not accepted "
        "by the pattern '[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}'."
    )


def test_reason_keeps_enumeration_sets(validator: ContractValidator) -> None:
    reason = _refusal(validator, "banking_bad_chrgbr_unknown_code.xml").reason
    assert "{'DEBT', 'CRED', 'SHAR'}" in reason


def test_reason_says_when_an_element_is_in_the_wrong_namespace(
    validator: ContractValidator,
) -> None:
    reason = _refusal(validator, "banking_bad_unqualified_children.xml").reason
    assert "it is in no namespace, not in urn:bridge:banking:v1" in reason


def test_missing_element_is_named_not_the_one_found_in_its_place(
    validator: ContractValidator,
) -> None:
    refusal = _refusal(validator, "banking_bad_missing_cdtr.xml")
    assert refusal.field == "TransferFunds/Cdtr"
    assert "Expected is ( Cdtr )" in refusal.reason
