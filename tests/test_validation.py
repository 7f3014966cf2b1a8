"""The one contract validator (`bridge.mapping.validation`): each caller gets its own verdict
and field, also when threads share one schema (lxml's error log lives on the schema)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lxml import etree

from bridge.mapping.schemas import contract_validator

SAMPLES = Path(__file__).parent / "data" / "soap" / "requests"


def _body(name: str) -> etree._Element:
    envelope = etree.parse(str(SAMPLES / name)).getroot()
    return next(iter(envelope.iterfind("{*}Body")))[0]


def _broken(name: str, local: str, text: str) -> etree._Element:
    element = _body(name)
    next(element.iter(f"{{*}}{local}")).text = text
    return element


def test_a_violation_names_the_element_path_and_the_reason() -> None:
    element = _broken("transfer_funds.xml", "IBAN", "DE00 not an iban")

    violation = contract_validator("banking").violation(element)

    assert violation is not None
    assert violation.field == "TransferFunds/Dbtr/Acct/IBAN"
    assert "pattern" in violation.reason
    assert "{urn:" not in violation.reason


def test_threads_sharing_one_schema_each_get_their_own_verdict() -> None:
    """Each thread validates a message of its own (as each request parses its own), with the
    one validator of the contract."""
    validator = contract_validator("banking")
    cases = [
        ("ok", lambda: _body("transfer_funds.xml")),
        ("IBAN", lambda: _broken("transfer_funds.xml", "IBAN", "nope")),
        ("MsgId", lambda: _broken("transfer_funds.xml", "MsgId", "")),
    ]

    def verdict(case: tuple[str, Callable[[], etree._Element]]) -> tuple[str, str | None]:
        name, message = case
        found = validator.violation(message())
        return name, None if found is None else found.field

    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(verdict, cases * 300))

    assert set(verdicts) == {
        ("ok", None),
        ("IBAN", "TransferFunds/Dbtr/Acct/IBAN"),
        ("MsgId", "TransferFunds/MsgId"),
    }
