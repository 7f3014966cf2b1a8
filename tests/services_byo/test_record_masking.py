"""What a recording keeps of a value (`bridge.domain.redaction.mask_field`): nothing secret,
personal or identifying, and the value's shape, so the contract still accepts it."""

from __future__ import annotations

import pytest

from bridge.domain.redaction import MASK, mask_field


@pytest.mark.parametrize(
    ("key", "value", "kept"),
    [
        ("Password", "correct horse", MASK),
        ("Nonce", "bm9uY2Utbm9uY2U=", MASK),
        ("apiKey", "bk_123_abc", MASK),
        ("name", "Jane Doe", "Xxxx Xxx"),
        ("lastName", "Müller-Lüdenscheid", "Xxxxxx-Xxxxxxxxxxx"),
        ("accountHolder", "J. Smith", "X. Xxxxx"),
        ("iban", "DE89370400440532013000", "DE89000000000000003000"),
        (
            "reference",
            "paid from GB82 WEST 1234 5698 7654 32",
            "paid from GB82 XXXX 0000 0000 0004 32",
        ),
        ("vatNumber", "123456789", "000006789"),
        ("note", "card 4111111111111111, token=abc", "card 0000000000001111, token=***"),
    ],
)
def test_a_value_is_masked_by_its_name_and_its_content(key: str, value: str, kept: str) -> None:
    assert mask_field(key, value) == kept


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("capital", "100000000000000.01"),
        ("amount", "12345678,90"),
        ("requestDate", "2026-12-04+01:00"),
        ("companyName", "ACME Holdings"),
        ("fileName", "statement.pdf"),
        ("countryCode", "DE"),
        ("valid", "true"),
    ],
)
def test_what_is_neither_secret_nor_personal_nor_an_account_is_kept(key: str, value: str) -> None:
    assert mask_field(key, value) == value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "Jane Doe"),
        ("iban", "DE89370400440532013000"),
        ("Password", "x"),
        ("n", "123456789"),
    ],
)
def test_masking_a_masked_value_changes_nothing(key: str, value: str) -> None:
    once = mask_field(key, value)

    assert mask_field(key, once) == once
