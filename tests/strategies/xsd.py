"""Hypothesis strategies from a schema tree (`bridge.mapping.xsdtree`): JSON values in the
generic form (`bridge.mapping.generic`) that fit the contract, so that JSON -> XML is valid
against the XSD and XML -> JSON gives the same value back.

What the generic form does not carry back exactly is not generated: an empty array (read back
as an absent key), strings a list item or a token type would split or collapse, and letters
newer than libxml2's Unicode tables in a `\\p{L}` pattern (Latin and the classic scripts only).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import strategies as st

from bridge.mapping.generic import ANY, TEXT
from bridge.mapping.jsonschema import INTEGER_BOUNDS, translate_pattern
from bridge.mapping.samples import generation_pattern, temporal_bounds
from bridge.mapping.xsdtree import (
    FLOATS,
    INTEGERS,
    Attribute,
    ComplexType,
    Element,
    Group,
    SimpleType,
    Wildcard,
)

MAX_DEPTH = 3  # below this, optional content is left out and choices take their first branch
# Text an xs:string carries and reads back: XML characters, no CR (a parser would normalise it).
_STRING_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"
)
# For patterns: Latin letters and punctuation, which every libxml2 classifies as this Python does.
_PATTERN_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x17F)
_NAME_PATTERNS = {
    "NCName": "[a-zA-Z_][a-zA-Z0-9._-]*",
    "Name": "[a-zA-Z_][a-zA-Z0-9._-]*",
    "ID": "[a-zA-Z_][a-zA-Z0-9._-]*",
    "QName": "[a-zA-Z_][a-zA-Z0-9._-]*",
    "NMTOKEN": "[a-zA-Z0-9._-]+",
    "language": "[a-z]{2,3}(-[A-Za-z0-9]{1,8})?",
    "anyURI": "urn:[a-z]{1,12}(:[a-z0-9]{1,8})?",
    "token": "[a-zA-Z0-9]+( [a-zA-Z0-9]+)*",
    "normalizedString": "[a-zA-Z0-9 ]*",
}
_ZONES = st.sampled_from(["", "Z", "+02:00", "-05:30"])


def message(root: Element) -> st.SearchStrategy[Any]:
    """The JSON form of a message whose SOAP Body child is `root` (identity names)."""
    if isinstance(root.type, SimpleType):
        return scalar(root.type).map(lambda value: {TEXT: value})
    return content(root.type, 0)


def content(ctype: ComplexType, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """The JSON object of a complex type's content: attributes, text and elements."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for attribute in ctype.attributes:
            if attribute.required or (depth < MAX_DEPTH and draw(st.booleans())):
                obj["@" + attribute.name] = draw(_attribute(attribute))
        if ctype.simple is not None:
            obj[TEXT] = draw(scalar(ctype.simple))
        elif ctype.mixed and draw(st.booleans()):  # read back only when not all whitespace
            obj[TEXT] = draw(st.from_regex("[a-zA-Z][a-zA-Z ]{0,12}", fullmatch=True))
        if ctype.content is not None:
            _group(draw, ctype.content, obj, depth, repeated=False)
        return {key: value for key, value in obj.items() if value != []}

    return build()


def _attribute(attribute: Attribute) -> st.SearchStrategy[Any]:
    if attribute.fixed is not None:
        return st.just(_json(attribute.type, attribute.fixed))
    return scalar(attribute.type)


def _group(draw: st.DrawFn, group: Group, obj: dict[str, Any], depth: int, repeated: bool) -> None:
    """Draw one occurrence pattern of a model group into `obj`. Inside a repeated group every
    element is an array and each round adds at most one item to each."""
    deep = depth >= MAX_DEPTH
    if group.max_occurs != 1:
        top = group.min_occurs + 2 if group.max_occurs is None else group.max_occurs
        rounds = group.min_occurs if deep else draw(st.integers(group.min_occurs, min(top, 3)))
        for _ in range(rounds):
            _round(draw, group, obj, depth, True)
        return
    if group.min_occurs == 0 and (deep or not draw(st.booleans())):
        return
    _round(draw, group, obj, depth, repeated)


def _round(draw: st.DrawFn, group: Group, obj: dict[str, Any], depth: int, repeated: bool) -> None:
    if group.kind == "choice":
        index = 0 if depth >= MAX_DEPTH else draw(st.integers(0, len(group.particles) - 1))
        _particle(draw, group.particles[index], obj, depth, repeated)
        return
    for particle in group.particles:
        _particle(draw, particle, obj, depth, repeated)


def _particle(
    draw: st.DrawFn, particle: Element | Group | Wildcard, obj: dict[str, Any], depth: int,
    repeated: bool,
) -> None:  # fmt: skip
    if isinstance(particle, Group):
        _group(draw, particle, obj, depth, repeated)
        return
    deep = depth >= MAX_DEPTH
    low, high = particle.min_occurs, particle.max_occurs
    if isinstance(particle, Wildcard):
        if particle.process_contents == "strict" or (low == 0 and (deep or draw(st.booleans()))):
            return
        items = obj.setdefault(ANY, [])
        items += draw(st.lists(_foreign(), min_size=max(low, 1), max_size=max(low, 2)))
        return
    key = particle.name
    if repeated:
        count = low if deep else draw(st.integers(low, min(high or low + 1, low + 1)))
        obj.setdefault(key, []).extend(_value(draw, particle, depth) for _ in range(count))
        return
    if high == 1:
        if low >= 1 or (not deep and draw(st.booleans())):
            obj[key] = _value(draw, particle, depth)
        return
    top = low + 2 if high is None else min(high, low + 2)
    count = low if deep else draw(st.integers(low, top))
    if count:
        obj[key] = [_value(draw, particle, depth) for _ in range(count)]


def _value(draw: st.DrawFn, element: Element, depth: int) -> Any:
    if element.nillable and draw(st.integers(0, 4)) == 0:
        return None
    if element.fixed is not None and isinstance(element.type, SimpleType):
        return _json(element.type, element.fixed)
    if isinstance(element.type, SimpleType):
        return draw(scalar(element.type))
    return draw(content(element.type, depth + 1))


def _foreign() -> st.SearchStrategy[str]:
    """An element of another namespace, as the codec reads it back (lxml's serialisation)."""
    return st.from_regex("[a-z]{1,8}", fullmatch=True).map(
        lambda text: f'<x:extra xmlns:x="urn:strategy:any">{text}</x:extra>'
    )


# -- simple values -----------------------------------------------------------------------------


@cache
def scalar(simple: SimpleType) -> st.SearchStrategy[Any]:
    """JSON values of a simple type within every facet (built once per type: a pattern's
    strategy is costly to build)."""
    facets = simple.facets
    if facets.enumeration:
        return st.sampled_from([_json(simple, value) for value in facets.enumeration])
    if simple.item is not None:
        low = facets.length if facets.length is not None else (facets.min_length or 0)
        high = facets.length if facets.length is not None else (facets.max_length or low + 3)
        return st.lists(_list_item(simple.item), min_size=low, max_size=min(high, low + 3))
    if simple.members:
        return st.one_of([scalar(member).map(_lexical) for member in simple.members])
    if facets.patterns:
        return _patterned(simple)
    builtin = simple.builtin
    if builtin == "boolean":
        return st.booleans()
    if builtin in INTEGERS:
        low, high = _integer_bounds(simple)
        return st.integers(low, high)
    if builtin == "decimal":
        return _decimals(simple)
    if builtin in FLOATS:
        return st.floats(
            width=32 if builtin == "float" else 64, allow_nan=False, allow_infinity=False
        )
    if builtin in ("date", "dateTime") and temporal_bounds(facets) != (None, None):
        return _bounded_moments(simple)
    if builtin in _TEMPORAL:
        return _TEMPORAL[builtin]
    if builtin in ("hexBinary", "base64Binary"):
        low, high = _lengths(simple, 12)
        octets = st.binary(min_size=low, max_size=high)
        if builtin == "hexBinary":
            return octets.map(lambda data: data.hex().upper())
        return octets.map(lambda data: base64.b64encode(data).decode())
    low, high = _lengths(simple, 20)
    if builtin in _NAME_PATTERNS:
        pattern = _NAME_PATTERNS[builtin]
        return st.from_regex(pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
    return st.text(alphabet=_STRING_CHARS, min_size=low, max_size=high)


def _list_item(simple: SimpleType) -> st.SearchStrategy[Any]:
    """A list item: a value whose text has no whitespace (the list's separator)."""
    return scalar(simple).filter(lambda value: _lexical(value) and not _has_space(_lexical(value)))


def _has_space(text: str) -> bool:
    return any(space in text for space in " \t\n\r")


def _patterned(simple: SimpleType) -> st.SearchStrategy[Any]:
    checks = [re.compile(translate_pattern(generation_pattern(p))) for p in simple.facets.patterns]
    low, high = _lengths(simple, 30)
    numeric = simple.builtin in INTEGERS or simple.builtin == "decimal"

    def fits(text: str) -> bool:
        if not all(check.fullmatch(text) for check in checks):
            return False
        if numeric:
            return simple.builtin == "decimal" or str(int(text)) == text
        return low <= len(text) <= high

    strategy = st.from_regex(checks[-1], fullmatch=True, alphabet=_PATTERN_CHARS).filter(fits)
    if simple.builtin in INTEGERS:
        return strategy.map(int)
    return strategy


def _lengths(simple: SimpleType, typical: int) -> tuple[int, int]:
    facets = simple.facets
    if facets.length is not None:
        return facets.length, facets.length
    low = facets.min_length or 0
    high = facets.max_length if facets.max_length is not None else low + typical
    return low, min(high, low + typical)


def _integer_bounds(simple: SimpleType) -> tuple[int, int]:
    low, high = INTEGER_BOUNDS[simple.builtin]
    facets = simple.facets
    low = -(10**20) if low is None else low
    high = 10**20 if high is None else high
    if facets.min_inclusive is not None:
        low = max(low, int(facets.min_inclusive))
    if facets.min_exclusive is not None:
        low = max(low, int(facets.min_exclusive) + 1)
    if facets.max_inclusive is not None:
        high = min(high, int(facets.max_inclusive))
    if facets.max_exclusive is not None:
        high = min(high, int(facets.max_exclusive) - 1)
    if facets.total_digits is not None:
        largest = 10**facets.total_digits - 1
        low, high = max(low, -largest), min(high, largest)
    return low, high


def _decimals(simple: SimpleType) -> st.SearchStrategy[str]:
    facets = simple.facets
    places = 4 if facets.fraction_digits is None else facets.fraction_digits
    total = facets.total_digits
    if total is not None:
        places = min(places, total)
    bound = Decimal(10) ** min(total - places if total is not None else 9, 9)
    low = Decimal(facets.min_inclusive) if facets.min_inclusive is not None else -bound
    high = Decimal(facets.max_inclusive) if facets.max_inclusive is not None else bound
    if facets.min_exclusive is not None:
        low = Decimal(facets.min_exclusive)
    if facets.max_exclusive is not None:
        high = Decimal(facets.max_exclusive)
    step = Decimal(1).scaleb(-places)
    high = min(high, bound - step)

    def fits(value: Decimal) -> bool:
        if facets.min_exclusive is not None and value <= Decimal(facets.min_exclusive):
            return False
        if facets.max_exclusive is not None and value >= Decimal(facets.max_exclusive):
            return False
        digits = len(value.as_tuple().digits)
        return total is None or digits <= total

    return (
        st.decimals(min_value=low, max_value=high, places=places)
        .filter(fits)
        .map(lambda value: format(value, "f"))
    )


def _json(simple: SimpleType, text: str) -> Any:
    """An XSD lexical value (an enumeration's, a fixed one) as its JSON value."""
    if simple.item is not None:
        return [_json(simple.item, part) for part in text.split()]
    if simple.members:
        return text
    if simple.builtin in INTEGERS:
        return int(text)
    if simple.builtin == "boolean":
        return text.strip() in ("true", "1")
    if simple.builtin in FLOATS:
        return float(text)
    return text


def _lexical(value: Any) -> str:
    """A JSON value as the XSD lexical text the codec writes for it (a union's JSON form)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _bounded_moments(simple: SimpleType) -> st.SearchStrategy[str]:
    """Dates or date-times inside range facets: in UTC, a day clear of each bound."""
    low, high = temporal_bounds(simple.facets)
    moments = st.datetimes(
        min_value=low or datetime(1000, 1, 1), max_value=high or datetime(9999, 12, 31)
    )
    if simple.builtin == "date":
        return moments.map(lambda moment: moment.date().isoformat())
    return moments.map(lambda moment: moment.replace(tzinfo=UTC).isoformat())


def _zoned(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(strategy, _ZONES).map("".join)


_DATES = st.dates(min_value=date(1000, 1, 1))
_TEMPORAL: dict[str, st.SearchStrategy[str]] = {
    "date": _zoned(_DATES.map(lambda d: d.isoformat())),
    "dateTime": st.datetimes(timezones=st.none() | st.just(UTC))
    .map(lambda moment: moment.isoformat())
    .filter(lambda text: text[:4] >= "1000"),
    "time": _zoned(st.times().map(lambda moment: moment.isoformat())),
    "gYear": _zoned(st.integers(1000, 9999).map(lambda year: f"{year:04d}")),
    "gYearMonth": _zoned(_DATES.map(lambda d: f"{d.year:04d}-{d.month:02d}")),
    "gMonthDay": _zoned(_DATES.map(lambda d: f"--{d.month:02d}-{min(d.day, 28):02d}")),
    "gDay": _zoned(st.integers(1, 28).map(lambda day: f"---{day:02d}")),
    "gMonth": _zoned(st.integers(1, 12).map(lambda month: f"--{month:02d}")),
    "duration": st.tuples(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59)).map(
        lambda parts: f"P{parts[0]}DT{parts[1]}H{parts[2]}M"
    ),
}
