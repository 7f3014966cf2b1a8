"""A simulator checks each request against its contract from many threads at once (gunicorn's
gthread workers): each request gets its own verdict, never another thread's error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bridge.sims.contract import Contract, RefusedMessage, load_contract

CONTRACTS = Path(__file__).parents[1] / "data" / "contracts"
ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    "{body}</soap:Body></soap:Envelope>"
)


def _envelope(name: str) -> bytes:
    body = (CONTRACTS / name).read_text(encoding="utf-8").split("?>", 1)[1]
    return ENVELOPE.format(body=body).encode()


VALID = _envelope("corebank_valid_post_payment_minimal.xml")
ZERO = _envelope("corebank_invalid_post_payment_amount_zero.xml")


def _verdict(contract: Contract, envelope: bytes) -> str:
    try:
        contract.request_element(envelope)
    except RefusedMessage as refused:
        return str(refused)
    return "ok"


def test_a_refusal_names_the_field_and_the_reason() -> None:
    contract = load_contract("corebank", "http://sims.example")

    with pytest.raises(RefusedMessage, match=r"schema validation failed: .*amountMinor"):
        contract.request_element(ZERO)


def test_threads_validating_at_once_each_get_their_own_verdict() -> None:
    contract = load_contract("corebank", "http://sims.example")
    refusal = _verdict(contract, ZERO)

    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda e: _verdict(contract, e), [VALID, ZERO] * 400))

    assert verdicts == ["ok", refusal] * 400
