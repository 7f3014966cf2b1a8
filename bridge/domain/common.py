"""Value objects shared by every vocabulary: money and account references."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, dataclass_transform

__all__ = [
    "AccountRef",
    "Money",
]

_T = TypeVar("_T")


@dataclass_transform(kw_only_default=True)
def canonical(cls: type[_T]) -> type[_T]:
    """A canonical message: a keyword-only dataclass with slots, whose JSON readers (pydantic,
    through `__pydantic_config__`, a plain dict) refuse fields the model does not have."""
    made: Any = dataclass(slots=True, kw_only=True)(cls)
    made.__pydantic_config__ = {"extra": "forbid"}
    return made  # type: ignore[no-any-return]


@canonical
class Money:
    """An exact amount in a currency. `amount` always carries the currency's minor units as its
    exponent (EUR ``Decimal('12.50')``, JPY ``Decimal('1200')``) once it has been mapped."""

    amount: Decimal
    currency: str


@canonical
class AccountRef:
    """An account named by IBAN or by another identifier; exactly one of the two is set."""

    iban: str | None = None
    other_id: str | None = None

    @property
    def number(self) -> str:
        return self.iban if self.iban is not None else (self.other_id or "")
