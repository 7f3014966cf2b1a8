"""The SOAP door's input rules (README "Input rules"), the same as the REST door's: what the
contract's schema, the mapping or the banking service refuses is a Client fault naming the
element, and nothing is stored or sent to core banking."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bridge.mapping.scalars import escape
from bridge.store.tables import transfers
from tests.common.soap import Door, read_fault, request_file
from tests.hostile import HOSTILE_STRINGS

# Every element (or attribute) of a TransferFunds a partner writes, by its path in the request
# file: (element path, the element's opening tag or attribute in the file).
TRANSFER_FIELDS = {
    "TransferFunds/MsgId": r"<bnk:MsgId>",
    "TransferFunds/CreDtTm": r"<bnk:CreDtTm>",
    "TransferFunds/Amt": r"<bnk:Amt Ccy=\"EUR\">",
    "TransferFunds/Amt/@Ccy": r"Ccy=\"",
    "TransferFunds/Dbtr/Nm": r"<bnk:Dbtr>\s*<bnk:Nm>",
    "TransferFunds/Dbtr/Acct/IBAN": r"<bnk:Dbtr>.*?<bnk:IBAN>",
    "TransferFunds/Cdtr/Nm": r"<bnk:Cdtr>\s*<bnk:Nm>",
    "TransferFunds/Cdtr/Acct/IBAN": r"<bnk:Cdtr>.*?<bnk:IBAN>",
    "TransferFunds/RmtInf/Ustrd": r"<bnk:Ustrd>",
    "TransferFunds/ChrgBr": r"<bnk:ChrgBr>",
}
# Characters XML 1.0 cannot carry: a document holding them is refused before any field is read.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def transfer_with(field: str, value: str, msg_id: str = "PB-RULES-0001") -> bytes:
    """The TransferFunds request file with `msg_id` and `value` (escaped for XML, raw when XML
    cannot carry it) as the text of `field`."""
    text = request_file("requests/transfer_funds.xml").decode()
    text = text.replace("PB-SOAP-0001", msg_id)
    written = value if NOT_XML.search(value) else escape(value)
    opening = TRANSFER_FIELDS[field]
    closing = '"' if field.endswith("@Ccy") else "<"
    pattern = re.compile(rf"({opening})[^{closing}]*", re.S)
    text, count = pattern.subn(lambda found: found.group(1) + written, text, count=1)
    assert count == 1
    return text.encode("utf-8", "surrogatepass")


def client_fault_naming(door: Door, body: bytes, field: str, action: str = "TransferFunds") -> str:
    response = door.post(body, action)
    assert response.status_code == 500, response.data
    fault = read_fault(response.data)
    assert fault.code == "Client", fault
    assert fault.field == field, fault
    return fault.reason or ""


def stored_transfers(door: Door) -> int:
    with door.engine.connect() as connection:
        count: int = connection.execute(select(func.count()).select_from(transfers)).scalar_one()
    return count


# -- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "1E+2",
        "1e2",
        "1_000.00",
        "\uff11\uff10.\uff10\uff10",
        "\u0661.\u0660\u0660",
        "\u0967\u0966.\u0966\u0966",
    ],
    ids=["exponent", "lower-exponent", "underscore", "full-width", "arabic-indic", "devanagari"],
)
def test_amount_with_exponent_separator_or_foreign_digits_is_refused_naming_amt(
    door: Door, amount: str
) -> None:
    client_fault_naming(door, transfer_with("TransferFunds/Amt", amount), "TransferFunds/Amt")

    assert door.corebank.postings == []


def test_amount_of_forty_digits_is_refused_naming_amt(door: Door) -> None:
    amount = "1234567890123456789012345678901234567890.00"

    client_fault_naming(door, transfer_with("TransferFunds/Amt", amount), "TransferFunds/Amt")
    assert door.corebank.postings == []


# -- IBANs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["Dbtr", "Cdtr"])
def test_iban_with_wrong_check_digits_is_refused_naming_it(door: Door, party: str) -> None:
    field = f"TransferFunds/{party}/Acct/IBAN"

    reason = client_fault_naming(door, transfer_with(field, "DE00370400440532013000"), field)

    assert "check digits" in reason
    assert door.corebank.postings == []
    assert stored_transfers(door) == 0


def test_foreign_iban_with_wrong_check_digits_is_not_forwarded_for_clearing(door: Door) -> None:
    field = "TransferFunds/Cdtr/Acct/IBAN"

    client_fault_naming(door, transfer_with(field, "GB29NWBK60161331926818"), field)
    assert door.corebank.postings == []


def test_account_verification_of_an_iban_with_wrong_check_digits_is_refused_naming_it(
    door: Door,
) -> None:
    body = request_file("requests/verify_account.xml").decode()
    body = body.replace("DE89370400440532013000", "DE00370400440532013000")

    client_fault_naming(door, body.encode(), "VerifyAccount/Acct/IBAN", "VerifyAccount")
    assert "ValidateAccount" not in door.corebank.calls


# -- requested execution date ----------------------------------------------------------------


def with_execution_date(wanted: str) -> bytes:
    body = request_file("requests/transfer_funds.xml").decode()
    return body.replace(
        "</bnk:CreDtTm>", f"</bnk:CreDtTm>\n      <bnk:ReqdExctnDt>{wanted}</bnk:ReqdExctnDt>"
    ).encode()


@pytest.mark.parametrize("wanted", ["0001-01-01", "9999-12-31"])
def test_execution_date_far_from_today_is_refused_naming_it(door: Door, wanted: str) -> None:
    reason = client_fault_naming(door, with_execution_date(wanted), "TransferFunds/ReqdExctnDt")

    assert "a date from" in reason
    assert door.corebank.postings == []
    assert stored_transfers(door) == 0


def test_execution_date_within_the_window_is_booked(door: Door) -> None:
    wanted = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()

    response = door.post(with_execution_date(wanted))

    assert response.status_code == 200, response.data
    assert door.corebank.postings[0].value_date.isoformat() == wanted


# -- MsgId -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "msg_id",
    ["PB\n0001", "PB&#10;0001", "PB\t0001", "\u202ePB-0001", "PB\u200d0001", " PB-0001"],
    ids=["newline", "newline-reference", "tab", "rtl-override", "zwj", "leading-space"],
)
def test_msg_id_with_control_format_or_edge_space_is_refused_naming_it(
    door: Door, msg_id: str
) -> None:
    body = request_file("requests/transfer_funds.xml").decode().replace("PB-SOAP-0001", msg_id)

    client_fault_naming(door, body.encode(), "TransferFunds/MsgId")
    assert door.corebank.postings == []


# -- every field, every hostile value ---------------------------------------------------------


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(sorted(TRANSFER_FIELDS)),
    value=st.sampled_from(sorted(HOSTILE_STRINGS.values())) | st.just(""),
)
def test_hostile_value_in_any_transfer_element_is_a_client_fault_naming_it_or_booked(
    door: Door, field: str, value: str
) -> None:
    stored, posted = stored_transfers(door), len(door.corebank.postings)
    # A new transfer each time; when MsgId is the field, a hostile MsgId replaces this one.
    response = door.post(transfer_with(field, value, f"PB-H-{stored}"))

    if response.status_code == 200:
        return
    assert response.status_code == 500, response.data
    fault = read_fault(response.data)
    assert fault.code == "Client", fault
    if not NOT_XML.search(value):  # otherwise the document is refused before any field
        assert fault.field == field or field.startswith(f"{fault.field}/"), (field, fault)
    assert (stored_transfers(door), len(door.corebank.postings)) == (stored, posted)


# The other operations' elements: (operation, request file, element path).
OTHER_FIELDS = [
    ("VerifyAccount", "verify_account.xml", "VerifyAccount/Acct/IBAN"),
    ("VerifyAccount", "verify_account.xml", "VerifyAccount/Nm"),
    ("GetTransferStatus", "get_transfer_status.xml", "GetTransferStatus/MsgId"),
    ("GetTransactions", "get_transactions.xml", "GetTransactions/Acct/IBAN"),
    ("GetTransactions", "get_transactions.xml", "GetTransactions/FrDt"),
    ("GetTransactions", "get_transactions.xml", "GetTransactions/ToDt"),
    ("GetTransactions", "get_transactions.xml", "GetTransactions/PgNb"),
    ("GetTransactions", "get_transactions.xml", "GetTransactions/PgSz"),
]


def request_with(name: str, field: str, value: str) -> bytes:
    """Request file `name` with `value` as the text of the (unprefixed) element `field`."""
    text = request_file(f"requests/{name}").decode()
    written = value if NOT_XML.search(value) else escape(value)
    element = field.rpartition("/")[2]
    text, count = re.subn(
        rf"(<{element}>)[^<]*", lambda found: found.group(1) + written, text, count=1
    )
    assert count == 1
    return text.encode("utf-8", "surrogatepass")


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(OTHER_FIELDS),
    value=st.sampled_from(sorted(HOSTILE_STRINGS.values())) | st.just(""),
)
def test_hostile_value_in_any_element_of_another_operation_is_a_client_fault_or_an_answer(
    door: Door, target: tuple[str, str, str], value: str
) -> None:
    operation, name, field = target

    response = door.post(request_with(name, field, value), operation)

    if response.status_code == 200:
        return
    assert response.status_code == 500, response.data
    fault = read_fault(response.data)
    assert fault.code == "Client", fault
    if fault.kind == "not-found":  # a valid MsgId that names no transfer: an answer
        return
    # A date valid on its own may make the period empty: the fault names its other end.
    period = {"GetTransactions/FrDt", "GetTransactions/ToDt"}
    if not NOT_XML.search(value) and not {field, fault.field} <= period:
        assert fault.field == field or field.startswith(f"{fault.field}/"), (field, fault)
