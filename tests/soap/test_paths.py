"""Errors named by canonical field are reported by the element the partner wrote."""

from __future__ import annotations

import pytest

from bridge.domain.errors import InvalidInput, KeyReused, MappingError
from bridge.mapping import Mappings
from bridge.soap.banking import OPERATIONS
from bridge.soap.paths import ElementPaths, ErrorFields


@pytest.mark.parametrize(
    ("spec", "canonical", "element"),
    [
        ("banking/transfer_request", "msg_id", "TransferFunds/MsgId"),
        ("banking/transfer_request", "amount", "TransferFunds/Amt"),
        ("banking/transfer_request", "amount.amount", "TransferFunds/Amt"),
        ("banking/transfer_request", "amount.currency", "TransferFunds/Amt/@Ccy"),
        ("banking/transfer_request", "debtor.account.iban", "TransferFunds/Dbtr/Acct/IBAN"),
        ("banking/transfer_request", "creditor.bic", "TransferFunds/Cdtr/Agt/BICFI"),
        ("banking/transfer_request", "remittance_info", "TransferFunds/RmtInf/Ustrd"),
        ("banking/transactions_request", "to_date", "GetTransactions/ToDt"),
        ("banking/transfer_request", "debtor.account.unknown", "TransferFunds/Dbtr/Acct"),
        ("banking/transfer_request", "nothing_like_it", "TransferFunds"),
        ("banking/transfer_request", "TransferFunds/Amt/@Ccy", "TransferFunds/Amt/@Ccy"),
    ],
)
def test_canonical_field_is_reported_by_its_element(
    mappings: Mappings, spec: str, canonical: str, element: str
) -> None:
    assert ElementPaths(mappings[spec].spec).element_path(canonical) == element


def test_reused_msgid_is_about_the_msgid_element(mappings: Mappings) -> None:
    fields = ErrorFields(mappings, OPERATIONS)
    assert fields("TransferFunds", KeyReused("reused")) == "TransferFunds/MsgId"
    assert fields("GetTransferStatus", KeyReused("reused")) is None


def test_errors_without_a_field_have_none(mappings: Mappings) -> None:
    fields = ErrorFields(mappings, OPERATIONS)
    assert fields("TransferFunds", InvalidInput("accounts must differ")) is None
    assert fields("GetTransactions", MappingError("to_date", "a later date")) == (
        "GetTransactions/ToDt"
    )
