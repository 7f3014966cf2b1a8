"""The IBAN check digits (ISO 13616, mod 97), shared by the payroll and classifier rules."""

from __future__ import annotations


def iban_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    if len(iban) < 5 or not rearranged.isascii() or not rearranged.isalnum():
        return False
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1
