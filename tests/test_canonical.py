"""The `@canonical` decorator: keyword-only dataclasses, without slots (orjson writes those as
fast as dicts), whose subclasses do not inherit a default for a field they declare again."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import orjson
import pytest

from bridge.domain.common import Money, canonical


@canonical
class _Base:
    key: str | None = None
    name: str


@canonical
class _Keyed(_Base):
    key: str  # declared again without a default: required here


def test_a_field_declared_again_without_a_default_is_required() -> None:
    assert _Base(name="a") == _Base(key=None, name="a")
    with pytest.raises(TypeError, match="key"):
        _Keyed(name="a")  # type: ignore[call-arg]
    assert [f.name for f in dataclasses.fields(_Keyed)] == ["key", "name"]
    assert _Keyed(key="k", name="a").key == "k"


def test_a_canonical_object_is_written_by_orjson_as_its_fields_in_order() -> None:
    money = Money(amount=Decimal("1.50"), currency="EUR")
    assert orjson.dumps(money, default=str) == b'{"amount":"1.50","currency":"EUR"}'
    assert not hasattr(Money, "__slots__")
