"""IBAN check digits (ISO 13616, mod 97): the one checker of the doors, the mapping and the
simulators. The pattern (country, check digits, 11 to 30 letters or digits) is the contracts'
``IBAN2007Identifier``; the check digits are what no schema pattern can say."""

from __future__ import annotations

import re

IBAN_PATTERN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# A letter's number in ISO 13616's check (A = 10 ... Z = 35); a digit stands for itself.
_LETTER_NUMBERS = str.maketrans(
    {chr(c): str(c - ord("A") + 10) for c in range(ord("A"), ord("Z") + 1)}
)


def iban_valid(iban: str) -> bool:
    """True when `iban` has the contracts' shape and its check digits are right."""
    if not IBAN_PATTERN.fullmatch(iban):
        return False
    return int((iban[4:] + iban[:4]).translate(_LETTER_NUMBERS)) % 97 == 1
