"""Value objects shared by every vocabulary: money and account references."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(slots=True, kw_only=True)
class Money:
    """An exact amount in a currency. `amount` always carries the currency's minor units as its
    exponent (EUR ``Decimal('12.50')``, JPY ``Decimal('1200')``) once it has been mapped."""

    amount: Decimal
    currency: str


@dataclass(slots=True, kw_only=True)
class AccountRef:
    """An account named by IBAN or by another identifier; exactly one of the two is set."""

    iban: str | None = None
    other_id: str | None = None

    @property
    def number(self) -> str:
        return self.iban if self.iban is not None else (self.other_id or "")
