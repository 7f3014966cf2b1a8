"""Masking what must never be written down: secrets (values under keys named like password,
secret, token or authorization, the same inside XML elements and `key=value` text) and IBANs,
which keep their first four and last four characters (`DE89…3000`).

Pure functions of text, used by the JSON log formatter (`bridge.observability.logging`) and by
the audit log's writer (`bridge.store.audit`), so both mask alike.
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


def secret_key(key: str) -> bool:
    """Whether a value under `key` is a secret by its name."""
    return _SECRET_KEY.search(key) is not None
