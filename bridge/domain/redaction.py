"""Masking what must never be written down: secrets (values under keys named like password,
secret, token or authorization, the same inside XML elements and `key=value` text) and IBANs,
which keep their first four and last four characters (`DE89…3000`).

Pure functions of text, used by the JSON log formatter (`bridge.observability.logging`) and by
the audit log's writer (`bridge.store.audit`), so both mask alike.

Recorded exchanges (`bridge sim record`, `bridge.sims.recording`) are masked field by field
(`mask_field`) and must stay valid against their contract to be served back: there a value
keeps its shape (letters stay letters, digits digits, its length and punctuation), so the
XSD's patterns and lengths still hold. Secrets (named like a password, secret, token,
authorization, nonce or API key) become `***`; personal names (an element or attribute named
like `name`, `lastName`, `holderName`...) lose every letter; account numbers anywhere in a
text (IBAN-like, or a run of 8 or more digits that is not part of an amount) keep only their
first four (IBAN) and last four characters.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(r"password|passwd|secret|token|authorization", re.IGNORECASE)
_SECRET_XML = re.compile(
    r"(<(?P<tag>(?:[\w.-]+:)?[\w.-]*(?:password|secret|token)[\w.-]*)\b[^>]*>)"
    r"[^<]*(</(?P=tag)\s*>)",
    re.IGNORECASE,
)
# A key that *ends* in a secret's name (access_token, client_secret, wss_password): a word that
# only contains one (`refresh_token_reused: a spent refresh token ...`) introduces prose.
_SECRET_PAIR = re.compile(
    r"""(?P<key>["']?[\w.-]{0,64}(?:password|passwd|secret|token|authorization)["']?"""
    r"""\s*[:=]\s*)(?P<value>"[^"]*"|'[^']*'|(?:Bearer\s+|Basic\s+)?[^\s,;&"'<>}\]]+)""",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b")
_RECORDED_SECRET = re.compile(
    r"password|passwd|secret|token|authorization|nonce|api[_-]?key|credential", re.IGNORECASE
)
_PERSONAL_NAME = re.compile(
    r"(?:first|last|given|family|middle|full|maiden|sur|fore|holder|owner|person|customer|"
    r"contact|debtor|creditor|beneficiary|payee|payer|employee|patient|account_?holder)?"
    r"[_-]?(?:name|surname|forename)",
    re.IGNORECASE,
)
_PERSONAL_WORD = re.compile(r"[a-z_-]*(?:holder|owner|signatory)", re.IGNORECASE)
# An IBAN, or a run of digits that is an account or card number, not the whole part of an
# amount (1234.50); one pattern, so that the digits of an IBAN are not a run of their own.
_ACCOUNT = re.compile(rf"(?P<iban>{_IBAN.pattern})|(?<![\d.,])\d{{8,}}(?!\d|[.,]\d)")


def mask_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return f"{compact[:4]}…{compact[-4:]}"


def redact_text(text: str) -> str:
    text = _SECRET_XML.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{MASK}", text)
    return _IBAN.sub(lambda m: mask_iban(m.group(0)), text)


def redact(value: Any) -> Any:
    """`value` with secrets masked, walking dicts, lists and tuples; other values as strings."""
    if isinstance(value, dict):
        return {
            str(key): MASK if _SECRET_KEY.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact_text(value if isinstance(value, str) else str(value))


def mask_shape(text: str) -> str:
    """`text` with every letter an `X` (`x` in lower case) and every digit a `0`: the same
    length, case and punctuation, nothing of the content."""
    return "".join(
        ("X" if ch.isupper() else "x") if ch.isalpha() else "0" if ch.isdigit() else ch
        for ch in text
    )


def _keep_ends(text: str, head: int) -> str:
    return text[:head] + mask_shape(text[head:-4]) + text[-4:]


def mask_accounts(text: str) -> str:
    """IBAN-like values keep their first and last four characters, runs of 8 or more digits
    their last four; the rest is shape-masked (`DE89370400440532013000` ->
    `DE89000000000000003000`)."""
    return _ACCOUNT.sub(lambda m: _keep_ends(m.group(0), 4 if m.group("iban") else 0), text)


def personal_name_key(key: str) -> bool:
    """Whether a value under `key` (an element or attribute's local name) is a person's name."""
    return bool(_PERSONAL_NAME.fullmatch(key) or _PERSONAL_WORD.fullmatch(key))


def mask_field(key: str, text: str) -> str:
    """A recorded value under `key`, masked for the record (the module docstring). Masking a
    masked value changes nothing, so a recording can be masked again and match itself."""
    if _RECORDED_SECRET.search(key):
        return MASK
    if personal_name_key(key):
        return mask_shape(text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{MASK}", text)
    return mask_accounts(text)


def secret_key(key: str) -> bool:
    """Whether a value under `key` is a secret by its name."""
    return _SECRET_KEY.search(key) is not None
