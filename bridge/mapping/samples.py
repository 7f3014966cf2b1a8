"""XSD-valid sample messages of any element, the same for the same seed.

The generated simulator of an imported WSDL answers with these (`bridge.sims.services`): a
reply a strict client accepts, different per seed, identical for a seed, so a recorded test
stays reproducible. Every facet is honoured: enumerations, lengths, digits and ranges, and
patterns, drawn from the pattern itself by a small generator over the XSD dialect (translated
by `bridge.mapping.jsonschema.translate_pattern`: `\\d` is an ASCII digit, `\\p{L}` a letter,
drawn from Latin where the class has some, since libxml2's Unicode tables are older than
Python's; `\\i`, `\\c`, `\\w` are drawn from ASCII classes they contain). What it cannot honour
it refuses with a ConfigurationError naming the type: such an escape inside a negated class,
character class subtraction, a strict `xs:any` that must occur, IDREF and ENTITY values, an
abstract type.

Values stay small and readable: ASCII letters, amounts below a thousand, dates in this century
(inside a date's range facets when it has them). The regular-expression generator is our own
(over `re`'s parser): the libraries for it draw `.` and negated classes from characters XML
cannot carry, and cannot be told the XSD dialect.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.jsonschema import INTEGER_BOUNDS, translate_pattern
from bridge.mapping.xsdtree import (
    FLOATS,
    INTEGERS,
    ComplexType,
    Element,
    Facets,
    Group,
    SimpleType,
    Wildcard,
)

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Characters a negated class or `.` may yield: printable, XML-safe, no whitespace.
_SAFE = "abcxyzABCXYZ0123456789-_.:éüß"
_TRIES = 200
_SOFT_DEPTH = 4  # below this, optional content is left out and choices take an empty branch
_HARD_DEPTH = 40
_REPEAT_SPAN = 4  # a `*`, `+` or `{n,}` repeats at most this many times more than its minimum
ANY_NAMESPACE = "urn:bridge:sample"


def sample(root: Element, seed: int) -> Any:
    """One instance of the global element `root`, valid against its schema."""
    return _Sampler(random.Random(seed)).instance(root)  # noqa: S311 (sample data, no secret)


def sample_text(simple: SimpleType, seed: int) -> str:
    """One lexical value of a simple type (the strategies and tests use it alone)."""
    return _Sampler(random.Random(seed)).text(simple)  # noqa: S311 (sample data, no secret)


class _Sampler:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids = 0

    # -- elements ----------------------------------------------------------------------------

    def instance(self, root: Element) -> Any:
        element = etree.Element(root.clark)
        self._fill(element, root.type, 0)
        return element

    def _fill(self, element: Any, declared: SimpleType | ComplexType, depth: int) -> None:
        if depth > _HARD_DEPTH:
            raise ConfigurationError(
                f"sample: {element.tag} nests without end (a recursive type that must recur)"
            )
        if isinstance(declared, SimpleType):
            element.text = self.text(declared)
            return
        if declared.abstract:
            raise ConfigurationError(f"sample: type {declared.name} is abstract")
        for attribute in declared.attributes:
            if attribute.fixed is not None:
                value: str | None = attribute.fixed
            elif attribute.required or (depth < _SOFT_DEPTH and self.rng.random() < 0.5):
                value = self.text(attribute.type)
            else:
                value = None
            if value is not None:
                name = (
                    f"{{{attribute.namespace}}}{attribute.name}"
                    if attribute.namespace
                    else attribute.name
                )
                element.set(name, value)
        if declared.simple is not None:
            element.text = self.text(declared.simple)
        elif declared.content is not None:
            self._group(element, declared.content, depth)

    def _count(self, low: int, high: int | None, depth: int) -> int:
        if depth >= _SOFT_DEPTH:
            return low
        top = low + 2 if high is None else min(high, low + 2)
        return self.rng.randint(low, top)

    def _group(self, parent: Any, group: Group, depth: int) -> None:
        for _ in range(self._count(group.min_occurs, group.max_occurs, depth)):
            if group.kind == "choice":
                branches = group.particles
                if depth >= _SOFT_DEPTH:
                    shallow = [p for p in branches if _emptiable(p) or _flat(p)]
                    branches = shallow or branches
                self._particle(parent, self.rng.choice(branches), depth)
            else:
                for particle in group.particles:
                    self._particle(parent, particle, depth)

    def _particle(self, parent: Any, particle: Element | Group | Wildcard, depth: int) -> None:
        if isinstance(particle, Group):
            self._group(parent, particle, depth)
        elif isinstance(particle, Wildcard):
            self._wildcard(parent, particle, depth)
        else:
            for _ in range(self._count(particle.min_occurs, particle.max_occurs, depth)):
                child = etree.SubElement(parent, particle.clark)
                if particle.fixed is not None:
                    child.text = particle.fixed
                else:
                    self._fill(child, particle.type, depth + 1)

    def _wildcard(self, parent: Any, wildcard: Wildcard, depth: int) -> None:
        count = self._count(wildcard.min_occurs, wildcard.max_occurs, depth)
        if count and wildcard.process_contents == "strict":
            if wildcard.min_occurs == 0:
                return
            raise ConfigurationError("sample: a strict xs:any that must occur has no sample here")
        namespaces = wildcard.namespace.split()
        if "##any" in namespaces or "##other" in namespaces:
            tag = f"{{{ANY_NAMESPACE}}}any"
        elif "##local" in namespaces:
            tag = "any"
        elif "##targetNamespace" in namespaces:
            tag = f"{{{etree.QName(parent).namespace}}}any"
        else:
            tag = f"{{{namespaces[0]}}}any"
        for _ in range(count):
            etree.SubElement(parent, tag)

    # -- simple values ---------------------------------------------------------------------

    def text(self, simple: SimpleType) -> str:
        facets = simple.facets
        if facets.enumeration:
            return self.rng.choice(facets.enumeration)
        if simple.item is not None:
            low = facets.length if facets.length is not None else (facets.min_length or 1)
            high = facets.length if facets.length is not None else (facets.max_length or low + 2)
            count = self.rng.randint(low, min(high, low + 2))
            return " ".join(self.text(simple.item) for _ in range(count))
        if simple.members:
            return self.text(self.rng.choice(simple.members))
        if facets.patterns:
            return self._patterned(simple)
        return self._plain(simple)

    def _patterned(self, simple: SimpleType) -> str:
        generator = _generator(simple.facets.patterns)
        for _ in range(_TRIES):
            text = generator.draw(self.rng)
            if generator.matches(text) and _fits(simple, text):
                return text
        raise ConfigurationError(
            f"sample: no value of {simple.name or simple.builtin} found that matches "
            f"{' and '.join(simple.facets.patterns)} within its other facets"
        )

    def _plain(self, simple: SimpleType) -> str:
        builtin = simple.builtin
        rng = self.rng
        if builtin == "boolean":
            return rng.choice(("true", "false"))
        if builtin in INTEGERS:
            return str(self._integer(simple))
        if builtin == "decimal" or builtin in FLOATS:
            return self._decimal(simple)
        low, high = temporal_bounds(simple.facets)
        start = (low or datetime(2000, 1, 1)).date()
        days = 9000 if high is None else min(9000, (high.date() - start).days)
        if days < 0:
            raise ConfigurationError(f"sample: {simple.name or builtin} has no values")
        day = start + timedelta(days=rng.randint(0, days))
        clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        lexical: dict[str, Callable[[], str]] = {
            "date": day.isoformat,
            "dateTime": lambda: f"{day.isoformat()}T{clock}Z",
            "time": lambda: clock,
            "gYear": lambda: f"{day.year:04d}",
            "gYearMonth": lambda: f"{day.year:04d}-{day.month:02d}",
            "gMonthDay": lambda: f"--{day.month:02d}-{min(day.day, 28):02d}",
            "gDay": lambda: f"---{min(day.day, 28):02d}",
            "gMonth": lambda: f"--{day.month:02d}",
            "duration": lambda: f"P{rng.randint(0, 30)}DT{rng.randint(0, 23)}H",
        }
        if builtin in lexical:
            return lexical[builtin]()
        if builtin in ("hexBinary", "base64Binary"):
            octets = bytes(rng.randrange(256) for _ in range(self._length(simple, 8)))
            return (
                octets.hex().upper()
                if builtin == "hexBinary"
                else base64.b64encode(octets).decode()
            )
        if builtin in ("IDREF", "IDREFS", "ENTITY", "ENTITIES", "NOTATION"):
            raise ConfigurationError(f"sample: xs:{builtin} values cannot be made up")
        if builtin == "language" and simple.facets == Facets():
            return rng.choice(("en", "de", "fr-CH"))
        length = self._length(simple, 8)
        if builtin == "ID":
            self.ids += 1
            prefix = f"i{self.ids}"
            return (prefix + "".join(rng.choice(_LETTERS) for _ in range(length)))[
                : max(length, len(prefix))
            ]
        return "".join(rng.choice(_LETTERS) for _ in range(length))

    def _length(self, simple: SimpleType, typical: int) -> int:
        facets = simple.facets
        if facets.length is not None:
            return facets.length
        low = max(facets.min_length or 0, 1)
        high = facets.max_length if facets.max_length is not None else low + typical
        if high < low:
            return high
        return self.rng.randint(low, min(high, low + typical))

    def _integer(self, simple: SimpleType) -> int:
        low, high = INTEGER_BOUNDS[simple.builtin]
        facets = simple.facets
        bounds = _bounds(facets, Decimal(1))
        low = _tighter(low, bounds[0], max)
        high = _tighter(high, bounds[1], min)
        if facets.total_digits is not None:
            largest = 10**facets.total_digits - 1
            low = _tighter(low, -largest, max)
            high = _tighter(high, largest, min)
        return self._between(low, high, simple)

    def _between(self, low: int | None, high: int | None, simple: SimpleType) -> int:
        if low is None and high is None:
            low, high = 0, 1000
        elif low is None:
            assert high is not None
            low = high - 1000
        elif high is None:
            high = low + 1000
        if low > high:
            raise ConfigurationError(f"sample: {simple.name or simple.builtin} has no values")
        return self.rng.randint(low, min(high, low + 100_000))

    def _decimal(self, simple: SimpleType) -> str:
        facets = simple.facets
        fraction = 2 if facets.fraction_digits is None else facets.fraction_digits
        if facets.total_digits is not None:
            fraction = min(fraction, facets.total_digits)
        step = Decimal(1).scaleb(-fraction)
        low, high = _bounds(facets, step)
        if facets.total_digits is not None:
            largest = 10**facets.total_digits - 1
            low = _tighter(low, -largest, max)
            high = _tighter(high, largest, min)
        units = self._between(low, high, simple)
        return format(Decimal(units).scaleb(-fraction), "f")


_TEMPORAL_MARGIN = timedelta(days=1)  # beyond any zone offset (14 hours) and an exclusive bound


def temporal_bounds(facets: Any) -> tuple[datetime | None, datetime | None]:
    """A date's or date-time's range facets as naive UTC moments, each moved a day inward:
    values drawn between them (as whole days, any time of day, in UTC or without a zone)
    are inside the range whatever XSD's comparison of zoned and unzoned values decides."""

    def moment(text: str | None, shift: timedelta) -> datetime | None:
        if text is None:
            return None
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value + shift

    low = moment(facets.min_inclusive or facets.min_exclusive, _TEMPORAL_MARGIN)
    high = moment(facets.max_inclusive or facets.max_exclusive, -_TEMPORAL_MARGIN)
    return low, high


def _tighter(current: int | None, new: int | None, pick: Any) -> int | None:
    if current is None:
        return new
    if new is None:
        return current
    return int(pick(current, new))


def _bounds(facets: Any, step: Decimal) -> tuple[int | None, int | None]:
    """The range facets in units of `step` (an integer's 1, a decimal's last digit)."""
    low = high = None
    if facets.min_inclusive is not None:
        low = int((Decimal(facets.min_inclusive) / step).to_integral_value(ROUND_CEILING))
    if facets.min_exclusive is not None:
        low = int((Decimal(facets.min_exclusive) / step).to_integral_value(ROUND_FLOOR)) + 1
    if facets.max_inclusive is not None:
        high = int((Decimal(facets.max_inclusive) / step).to_integral_value(ROUND_FLOOR))
    if facets.max_exclusive is not None:
        high = int((Decimal(facets.max_exclusive) / step).to_integral_value(ROUND_CEILING)) - 1
    return low, high


def _fits(simple: SimpleType, text: str) -> bool:
    """The facets a pattern-drawn value must still meet: lengths, and a number's range."""
    facets = simple.facets
    if simple.builtin in INTEGERS or simple.builtin == "decimal":
        try:
            value = Decimal(text)
        except ArithmeticError:
            return False
        checks: tuple[tuple[str | None, Callable[[Decimal], bool]], ...] = (
            (facets.min_inclusive, lambda b: value >= b),
            (facets.max_inclusive, lambda b: value <= b),
            (facets.min_exclusive, lambda b: value > b),
            (facets.max_exclusive, lambda b: value < b),
        )
        return all(bound is None or check(Decimal(bound)) for bound, check in checks)
    if facets.length is not None and len(text) != facets.length:
        return False
    if facets.min_length is not None and len(text) < facets.min_length:
        return False
    return facets.max_length is None or len(text) <= facets.max_length


def _emptiable(particle: Element | Group | Wildcard) -> bool:
    if particle.min_occurs == 0:
        return True
    if isinstance(particle, Group):
        check = any if particle.kind == "choice" else all
        return check(_emptiable(p) for p in particle.particles)
    return False


def _flat(particle: Element | Group | Wildcard) -> bool:
    """A branch of simple elements only: no way back into a recursive type."""
    if isinstance(particle, Element):
        return isinstance(particle.type, SimpleType)
    if isinstance(particle, Group):
        return all(_flat(p) for p in particle.particles)
    return False


# -- patterns ------------------------------------------------------------------------------


# XSD's name and word escapes, which have no ECMA-262 form, as classes of ASCII characters
# they all match: a value drawn from (and checked against) the narrower class fits the wider.
_SUBSETS = {
    "w": "a-zA-Z0-9",  # letters and digits are word characters
    "i": "a-zA-Z_",  # ... name start characters
    "c": "a-zA-Z0-9._\\-",  # ... name characters
    "W": " !,",  # a space, punctuation: not word characters
    "I": "0-9.\\-",  # digits, '.', '-': not name start characters
    "C": " !,",  # not name characters
}


def generation_pattern(xsd: str) -> str:
    """An XSD pattern with `\\w`, `\\i`, `\\c` (and their complements) narrowed to ASCII
    classes they contain, for drawing values only. Inside a negated class a narrower class
    would widen what is allowed: that is refused."""
    out: list[str] = []
    index, depth, negated = 0, 0, False
    while index < len(xsd):
        char = xsd[index]
        if char == "\\":
            escape = xsd[index + 1 : index + 2]
            if escape in _SUBSETS:
                if depth and negated:
                    raise ConfigurationError(
                        f"sample: pattern {xsd!r}: \\{escape} in a negated class is not generated"
                    )
                out.append(_SUBSETS[escape] if depth else f"[{_SUBSETS[escape]}]")
            else:
                out.append(xsd[index : index + 2])
            index += 2
            continue
        if char == "[" and not depth:
            depth, negated = 1, xsd[index + 1 : index + 2] == "^"
        elif char == "]" and depth:
            depth = 0
        out.append(char)
        index += 1
    return "".join(out)


class _Generator:
    """Strings drawn from the parse tree of one XSD pattern (the last derivation step's),
    checked against every step's pattern."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        translated = [translate_pattern(generation_pattern(p)) for p in patterns]
        self._checks = [re.compile(p) for p in translated]
        self._tree = sre_parse.parse(translated[-1])

    def matches(self, text: str) -> bool:
        return all(check.fullmatch(text) for check in self._checks)

    def draw(self, rng: random.Random) -> str:
        out: list[str] = []
        self._sequence(self._tree, rng, out)
        return "".join(out)

    def _sequence(self, items: Any, rng: random.Random, out: list[str]) -> None:
        for op, arg in items:
            if op is sre.LITERAL:
                out.append(chr(arg))
            elif op is sre.NOT_LITERAL:
                out.append(rng.choice([c for c in _SAFE if ord(c) != arg]))
            elif op is sre.ANY:
                out.append(rng.choice(_SAFE))
            elif op is sre.IN:
                out.append(_member(arg, rng))
            elif op is sre.BRANCH:
                self._sequence(rng.choice(arg[1]), rng, out)
            elif op is sre.SUBPATTERN:
                self._sequence(arg[-1], rng, out)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, high, body = arg
                top = low + _REPEAT_SPAN if high is sre.MAXREPEAT else min(high, low + _REPEAT_SPAN)
                for _ in range(rng.randint(low, top)):
                    self._sequence(body, rng, out)
            elif op is sre.AT:
                continue
            else:
                raise ConfigurationError(f"sample: pattern construct {op} is not generated")


def _member(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    """A character of a class: one of its ranges or literals, or for a negated class one of
    the safe characters outside it."""
    if items and items[0][0] is sre.NEGATE:
        excluded = items[1:]
        allowed = [c for c in _SAFE if not any(_in_item(item, ord(c)) for item in excluded)]
        if not allowed:
            raise ConfigurationError("sample: a negated character class excludes every safe one")
        return rng.choice(allowed)
    # Latin first: this Python's Unicode tables are newer than libxml2's, which may not
    # count a recent letter as \p{L}.
    latin = [_clipped(item) for item in items if _clipped(item) is not None]
    op, arg = rng.choice(latin or items)
    if op is sre.LITERAL:
        return chr(arg)
    if op is sre.RANGE:
        return chr(rng.randint(arg[0], arg[1]))
    if op is sre.CATEGORY and arg is sre.CATEGORY_DIGIT:
        return rng.choice("0123456789")
    raise ConfigurationError(f"sample: character class item {op} is not generated")


_LATIN = (0x20, 0x17F)  # up to Latin Extended-A: in every Unicode version


def _clipped(item: tuple[Any, Any]) -> Any:
    """A class item narrowed to Latin characters, or None when it has none."""
    op, arg = item
    if op is sre.LITERAL:
        return item if _LATIN[0] <= arg <= _LATIN[1] else None
    if op is sre.RANGE:
        low, high = max(arg[0], _LATIN[0]), min(arg[1], _LATIN[1])
        return (op, (low, high)) if low <= high else None
    return item


def _in_item(item: tuple[Any, Any], point: int) -> bool:
    op, arg = item
    if op is sre.LITERAL:
        return bool(point == arg)
    if op is sre.RANGE:
        return bool(arg[0] <= point <= arg[1])
    return True  # a category: treat as excluding, to stay on the safe side


@cache
def _generator(patterns: tuple[str, ...]) -> _Generator:
    return _Generator(patterns)
