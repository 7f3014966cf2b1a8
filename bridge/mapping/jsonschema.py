"""JSON Schemas generated from a contract's XML Schema, every facet included.

The XSD inside a WSDL is the source of truth for what a message may carry; the REST door's
OpenAPI document and any REST operation generated from an imported WSDL take their facets from
here, so the JSON side says what the XML side enforces:

    minOccurs / maxOccurs        required, arrays with minItems / maxItems
    nillable                     null
    length, minLength, maxLength the same keywords
    pattern                      an anchored ECMA-262 pattern (`translate_pattern`)
    enumeration                  enum
    min/maxInclusive/Exclusive   minimum / maximum / exclusive* on integers; on decimals,
                                 which travel as JSON strings, part of their pattern
    totalDigits, fractionDigits  part of a decimal's pattern
    xs:date, xs:dateTime         format date / date-time; xs:boolean, integers: JSON types

`XsdJsonSchema(schema).element("TransferFunds")` gives a whole message; `.at(element, path)`
the schema of the declaration a mapping spec's path names (`Dbtr/Acct/IBAN`, `Amt/@Ccy`);
`canonical_facets(spec, xsd)` maps each canonical field of a spec to it. What cannot be
translated exactly (`\\i`, `\\c`, `\\w`, character-class subtraction, a decimal range this
module cannot write as a pattern) raises ConfigurationError naming it: a document that
silently says less than the contract would let through what the contract forbids.

Decimals are JSON strings in xs:decimal's lexical form with ASCII digits (the bridge's rule,
`scalars.DECIMAL_TEXT`); `\\d` is read the same way, as an ASCII digit.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.schemas import CONTRACTS_ROOT, contract_path, extract_schema
from bridge.mapping.spec import FieldSpec, MessageSpec

XS = "http://www.w3.org/2001/XMLSchema"
_X = f"{{{XS}}}"
JsonSchema = dict[str, Any]

# Built-in types: their JSON type, and the bounds an integer type carries by itself.
_STRINGS = {"string", "normalizedString", "token", "NMTOKEN", "Name", "NCName", "ID", "language"}
INTEGER_BOUNDS: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
_FORMATS = {"date": "date", "dateTime": "date-time", "anyURI": "uri-reference"}
# What of xs:dateTime RFC 3339 does not say: a zone offset of at most 14 hours; and what the
# bridge decides: a zone is required and a second has at most 6 decimals (microseconds).
DATE_TIME = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,6})?"
    "(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)


class XsdJsonSchema:
    """The global declarations of one `<xs:schema>` element, translated on demand."""

    def __init__(self, schema: Any) -> None:
        self._schema = schema
        self.target = schema.get("targetNamespace", "")
        self._qualified = schema.get("elementFormDefault") == "qualified"
        self._types: dict[str, Any] = {}
        self._elements: dict[str, Any] = {}
        for child in schema:
            if child.tag in (f"{_X}simpleType", f"{_X}complexType"):
                self._types[child.get("name")] = child
            elif child.tag == f"{_X}element":
                self._elements[child.get("name")] = child
            elif child.tag in (f"{_X}import", f"{_X}include", f"{_X}redefine"):
                raise ConfigurationError(f"XSD {child.tag}: only self-contained schemas")

    @classmethod
    def of_contract(cls, contract: str, root: Path = CONTRACTS_ROOT) -> XsdJsonSchema:
        """The schema of `contract` in the contracts folder `root` (`Settings.contracts_dir`)."""
        return _contract(contract_path(contract, root))

    # -- whole declarations ----------------------------------------------------------------

    def element(self, name: str) -> JsonSchema:
        """The JSON Schema of a global element: child elements by local name, attributes as
        `@name`, simple content as `#text`."""
        return self._declared(self._global_element(name))

    def type(self, name: str) -> JsonSchema:
        """The JSON Schema of a named type (`Max35Text`, `tns:Party`, `xs:date`)."""
        return self._type_by_qname(name, self._schema)

    def at(self, element: str, path: str) -> JsonSchema:
        """The JSON Schema of what `path` (child elements by local name, `@attr` last) names
        under the global `element`, with its occurrence: `{"schema", "min", "max"}`."""
        node = self._global_element(element)
        minimum: int = 1
        maximum: int | None = 1
        for step in [s for s in path.strip("/").split("/") if s]:
            if step.startswith("@"):
                attribute = self._attribute(node, step[1:])
                required = attribute.get("use") == "required"
                return {"schema": self._declared(attribute), "min": int(required), "max": 1}
            node = self._child(node, step)
            minimum = int(node.get("minOccurs", "1"))
            maximum = _max_occurs(node)
        return {"schema": self._declared(node), "min": minimum, "max": maximum}

    # -- lookups ---------------------------------------------------------------------------

    def _global_element(self, name: str) -> Any:
        try:
            return self._elements[name]
        except KeyError:
            raise ConfigurationError(f"XSD {self.target}: no global element {name!r}") from None

    def _complex_of(self, element: Any) -> Any | None:
        if element.get("ref") is not None:
            element = self._global_element(_local(element.get("ref")))
        inline = element.find(f"{_X}complexType")
        if inline is not None:
            return inline
        type_name = element.get("type")
        if type_name is None:
            return None
        found = self._named_type(type_name, element)
        return found if found is not None and found.tag == f"{_X}complexType" else None

    def _child(self, element: Any, name: str) -> Any:
        complex_type = self._complex_of(element)
        if complex_type is not None:
            for particle in self._particles(complex_type):
                if particle.tag == f"{_X}element" and _declared_name(particle) == name:
                    return particle
        raise ConfigurationError(f"XSD {self.target}: {element.get('name')} has no child {name!r}")

    def _attribute(self, element: Any, name: str) -> Any:
        complex_type = self._complex_of(element)
        if complex_type is not None:
            for attribute in self._attributes(complex_type):
                if attribute.get("name") == name:
                    return attribute
        raise ConfigurationError(f"XSD {self.target}: {element.get('name')} has no @{name}")

    def _named_type(self, qname: str, context: Any) -> Any | None:
        namespace, local = _resolve(qname, context)
        if namespace == XS:
            return None
        if namespace != self.target or local not in self._types:
            raise ConfigurationError(f"XSD {self.target}: unknown type {qname!r}")
        return self._types[local]

    def _particles(self, complex_type: Any) -> list[Any]:
        """Element declarations of a complex type in document order, a base type's first."""
        found: list[Any] = []
        for node in complex_type.iter(f"{_X}element", f"{_X}extension", f"{_X}restriction"):
            if node.tag == f"{_X}element":
                found.append(node)
            elif node.getparent().tag == f"{_X}complexContent":
                base = self._named_type(node.get("base"), node)
                if base is not None:
                    found[:0] = self._particles(base)
        # only this type's own particles, not those of elements declared inline inside it
        return [e for e in found if _owner(e) in (complex_type, *self._bases(complex_type))]

    def _bases(self, complex_type: Any) -> list[Any]:
        bases = []
        for node in complex_type.iterchildren(f"{_X}complexContent"):
            for derivation in node:
                base = self._named_type(derivation.get("base"), derivation)
                if base is not None:
                    bases += [base, *self._bases(base)]
        return bases

    def _attributes(self, complex_type: Any) -> list[Any]:
        found = [a for a in complex_type.iter(f"{_X}attribute") if _owner(a) is complex_type]
        for base in self._bases(complex_type):
            found += self._attributes(base)
        return found

    # -- translation -----------------------------------------------------------------------

    def _declared(self, declaration: Any) -> JsonSchema:
        """An element or attribute declaration's schema (null too when nillable)."""
        if declaration.get("ref") is not None:
            declaration = self._global_element(_local(declaration.get("ref")))
        inline = declaration.find(f"{_X}simpleType")
        if inline is None:
            inline = declaration.find(f"{_X}complexType")
        if inline is not None:
            schema = self._type_node(inline)
        elif declaration.get("type") is not None:
            schema = self._type_by_qname(declaration.get("type"), declaration)
        else:
            schema = {}  # xs:anyType
        if declaration.get("nillable") == "true":
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema

    def _type_by_qname(self, qname: str, context: Any) -> JsonSchema:
        namespace, local = _resolve(qname, context)
        if namespace == XS:
            return builtin_schema(local)
        node = self._named_type(qname, context)
        assert node is not None
        return self._type_node(node)

    def _type_node(self, node: Any) -> JsonSchema:
        if node.tag == f"{_X}simpleType":
            return self._simple(node)
        return self._complex(node)

    def _simple(self, simple_type: Any) -> JsonSchema:
        """A simple type: its base's schema narrowed by each facet of its restriction."""
        restriction = simple_type.find(f"{_X}restriction")
        if restriction is None:
            variant = "list" if simple_type.find(f"{_X}list") is not None else "union"
            raise ConfigurationError(f"XSD {self.target}: xs:{variant} types are not supported")
        base = restriction.get("base")
        if base is not None:
            schema = dict(self._type_by_qname(base, restriction))
        else:
            schema = dict(self._simple(restriction.find(f"{_X}simpleType")))
        return restrict(schema, restriction)

    def _complex(self, complex_type: Any) -> JsonSchema:
        simple_content = complex_type.find(f"{_X}simpleContent")
        properties: dict[str, JsonSchema] = {}
        required: list[str] = []
        choices: list[list[str]] = []
        if simple_content is not None:
            derivation = simple_content[0]
            properties["#text"] = self._type_by_qname(derivation.get("base"), derivation)
            required.append("#text")
        else:
            for particle in self._particles(complex_type):
                name = _declared_name(particle)
                declared = self._declared(particle)
                low, high = int(particle.get("minOccurs", "1")), _max_occurs(particle)
                if high != 1:
                    declared = {"type": "array", "items": declared, "minItems": low}
                    if high is not None:
                        declared["maxItems"] = high
                properties[name] = declared
                choice = _choice_of(particle, complex_type)
                if choice is not None:
                    names = [_declared_name(e) for e in choice.iter(f"{_X}element")]
                    if names not in choices:
                        choices.append(names)
                elif low >= 1:
                    required.append(name)
        for attribute in self._attributes(complex_type):
            properties["@" + attribute.get("name")] = self._declared(attribute)
            if attribute.get("use") == "required":
                required.append("@" + attribute.get("name"))
        schema: JsonSchema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        if len(choices) == 1:
            schema["oneOf"] = [{"required": [name]} for name in choices[0]]
        elif choices:
            schema["allOf"] = [{"oneOf": [{"required": [n]} for n in c]} for c in choices]
        return schema


@cache
def _contract(path: Path) -> XsdJsonSchema:
    return XsdJsonSchema(extract_schema(path))


# The characters XML 1.0 carries (its `Char` production): an xs:string cannot hold the others.
# (Lone surrogates are left out of the class: no regex engine but ECMA's names them, and no
# JSON text in UTF-8 carries one.)
XML_CHARS = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]*$"


def builtin_schema(local: str) -> JsonSchema:
    """The JSON Schema of an XSD built-in type the bridge's canonical messages use."""
    if local in _STRINGS:
        return {"type": "string", "pattern": XML_CHARS}
    if local == "boolean":
        return {"type": "boolean"}
    if local in ("decimal", "double", "float"):
        if local != "decimal":
            raise ConfigurationError(f"xs:{local}: only exact decimals are supported")
        return {"type": "string", "x-xsd-decimal": {}}
    if local in INTEGER_BOUNDS:
        low, high = INTEGER_BOUNDS[local]
        schema: JsonSchema = {"type": "integer"}
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
        return schema
    if local == "dateTime":
        return {"type": "string", "format": "date-time", "pattern": DATE_TIME}
    if local in _FORMATS:
        return {"type": "string", "format": _FORMATS[local]}
    raise ConfigurationError(f"xs:{local} is not supported")


def restrict(schema: JsonSchema, restriction: Any) -> JsonSchema:
    """`schema` narrowed by the facets of one `<xs:restriction>` (each facet at most as wide as
    the base's: XSD only narrows)."""
    patterns = [f.get("value") for f in restriction.iterchildren(f"{_X}pattern")]
    enumeration = [f.get("value") for f in restriction.iterchildren(f"{_X}enumeration")]
    facets = {
        etree.QName(f).localname: f.get("value")
        for f in restriction
        if isinstance(f.tag, str) and f.tag.startswith(_X)
    }
    return narrow(schema, facets, patterns, enumeration)


# The facets that bound a decimal's digits and range, by their XSD names.
DECIMAL_FACETS = (
    "totalDigits",
    "fractionDigits",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
)


def narrow(
    schema: JsonSchema, facets: dict[str, str], patterns: list[str], enumeration: list[str]
) -> JsonSchema:
    """`schema` narrowed by one derivation step's facets, by their XSD names (`maxLength`,
    `totalDigits`...); shared with the generic codec's schemas (`bridge.mapping.generic`)."""
    decimal = schema.get("x-xsd-decimal")
    if decimal is not None:
        decimal = dict(decimal)
        for name in DECIMAL_FACETS:
            if name in facets:
                decimal[name] = facets[name]
        schema["x-xsd-decimal"] = decimal
    elif schema.get("type") == "integer":
        _integer_bounds(schema, facets)
    if "length" in facets:
        schema["minLength"] = schema["maxLength"] = int(facets["length"])
    if "minLength" in facets:
        schema["minLength"] = max(schema.get("minLength", 0), int(facets["minLength"]))
    if "maxLength" in facets:
        schema["maxLength"] = min(schema.get("maxLength", 2**63), int(facets["maxLength"]))
    if patterns:
        # Several patterns in one step are alternatives; a pattern of each step must match.
        translated = (
            translate_pattern(patterns[0])
            if len(patterns) == 1
            else "^(?:" + "|".join(translate_pattern(p)[1:-1] for p in patterns) + ")$"
        )
        if "pattern" in schema:
            schema.setdefault("allOf", []).append({"pattern": schema.pop("pattern")})
        schema["pattern"] = translated
    if enumeration:
        values: list[Any] = enumeration
        if schema.get("type") == "integer":
            values = [int(v) for v in enumeration]
        schema["enum"] = values
    return schema


def _integer_bounds(schema: JsonSchema, facets: dict[str, str]) -> None:
    # xs:integer has no bounds of its own: a facet's bound is taken whole, however large.
    def raise_minimum(value: int) -> None:
        schema["minimum"] = max(schema.get("minimum", value), value)

    def lower_maximum(value: int) -> None:
        schema["maximum"] = min(schema.get("maximum", value), value)

    if "minInclusive" in facets:
        raise_minimum(int(facets["minInclusive"]))
    if "maxInclusive" in facets:
        lower_maximum(int(facets["maxInclusive"]))
    if "minExclusive" in facets:
        raise_minimum(int(facets["minExclusive"]) + 1)
    if "maxExclusive" in facets:
        lower_maximum(int(facets["maxExclusive"]) - 1)
    if "totalDigits" in facets:
        largest = 10 ** int(facets["totalDigits"]) - 1
        raise_minimum(-largest)
        lower_maximum(largest)


def finish(schema: JsonSchema) -> JsonSchema:
    """A translated schema as JSON Schema proper: each decimal's facets written as its pattern.
    Returns a new schema; the input is left as it was."""
    done: JsonSchema = {
        key: _finished(value) for key, value in schema.items() if key != "x-xsd-decimal"
    }
    if "x-xsd-decimal" in schema:
        pattern = decimal_pattern(**schema["x-xsd-decimal"])
        if "pattern" in done:
            done["allOf"] = [*done.get("allOf", []), {"pattern": done.pop("pattern")}]
        done["pattern"] = pattern
    return done


def _finished(value: Any) -> Any:
    if isinstance(value, dict):
        return finish(value)
    if isinstance(value, list):
        return [_finished(item) for item in value]
    return value


# -- decimals ------------------------------------------------------------------------------


def decimal_pattern(
    totalDigits: str | None = None,
    fractionDigits: str | None = None,
    minInclusive: str | None = None,
    maxInclusive: str | None = None,
    minExclusive: str | None = None,
    maxExclusive: str | None = None,
) -> str:
    """xs:decimal's lexical form (ASCII digits, an optional sign, no exponent) narrowed to
    the digits and range facets. The ranges written exactly are: none, >= 0, > 0 (or >= a
    value no larger than the smallest step), and [0, n] or [-n, n] for an integer n; others
    raise ConfigurationError."""
    total = None if totalDigits is None else int(totalDigits)
    fraction = None if fractionDigits is None else int(fractionDigits)
    if total is not None:
        fraction = total if fraction is None else min(fraction, total)
    low = _bound(minInclusive, minExclusive, "minimum")
    high = _bound(maxInclusive, maxExclusive, "maximum")
    step = None if fraction is None else Decimal(1).scaleb(-fraction)
    frac = "[0-9]*" if fraction is None else f"[0-9]{{0,{fraction}}}0*"
    frac1 = "[0-9]+" if fraction is None else f"[0-9]{{1,{fraction}}}0*"
    if high is not None:
        ceiling, inclusive = high
        symmetric = low is not None and low == (-ceiling, inclusive)
        from_zero = low is not None and low == (Decimal(0), True)
        if not inclusive or ceiling <= 0 or ceiling != ceiling.to_integral_value():
            raise ConfigurationError(f"a decimal range up to {ceiling} has no pattern here")
        if not (symmetric or from_zero):
            raise ConfigurationError(f"a decimal range from {low} to {ceiling} has no pattern here")
        n = int(ceiling)
        if total is not None and len(str(n)) + (fraction or 0) > total:
            raise ConfigurationError(f"a decimal range up to {n} with {total} digits")
        below = _integers_below(n)
        if fraction == 0:
            magnitude = f"0*(?:{below}|{n})(?:\\.0*)?"
        else:
            zeros = "0*"
            magnitude = f"(?:0*(?:{below})(?:\\.{frac})?|0*\\.{frac1}|0*{n}(?:\\.{zeros})?)"
        sign = "[+-]?" if symmetric else "\\+?"
        return f"^{sign}{magnitude}$"
    if low is None:
        return f"^[+-]?{_unsigned(total, fraction)}$"
    value, inclusive = low
    if value == 0 and inclusive:
        return f"^\\+?{_unsigned(total, fraction)}$"
    if value == 0 or (value > 0 and step is not None and value <= step):
        return f"^\\+?{_positive(total, fraction)}$"
    raise ConfigurationError(f"a decimal range from {value} has no pattern here")


def _bound(inclusive: str | None, exclusive: str | None, name: str) -> tuple[Decimal, bool] | None:
    if inclusive is not None and exclusive is not None:
        raise ConfigurationError(f"both an inclusive and an exclusive {name}")
    if inclusive is not None:
        return Decimal(inclusive), True
    if exclusive is not None:
        return Decimal(exclusive), False
    return None


def _integer_digits(total: int | None, fraction: int | None) -> str:
    """The digits before the point: all of `total` not reserved for the fraction (narrower
    than XSD's count, which lets a number without decimals use them all)."""
    if total is None:
        return "+"
    return f"{{1,{max(total - (fraction or 0), 1)}}}"


def _unsigned(total: int | None, fraction: int | None) -> str:
    digits = _integer_digits(total, fraction)
    if fraction == 0:
        return f"0*[0-9]{digits}(?:\\.0*)?"
    frac = "[0-9]*" if fraction is None else f"[0-9]{{0,{fraction}}}0*"
    frac1 = "[0-9]+" if fraction is None else f"[0-9]{{1,{fraction}}}0*"
    return f"(?:0*[0-9]{digits}(?:\\.{frac})?|0*\\.{frac1})"


def _positive(total: int | None, fraction: int | None) -> str:
    """Decimals greater than zero: a non-zero digit before the point, or after it."""
    rest = "*" if total is None else f"{{0,{max(total - (fraction or 0), 1) - 1}}}"
    frac = "[0-9]*" if fraction is None else f"[0-9]{{0,{fraction}}}0*"
    whole = (
        f"0*[1-9][0-9]{rest}(?:\\.{frac})?" if fraction != 0 else f"0*[1-9][0-9]{rest}(?:\\.0*)?"
    )
    if fraction == 0:
        return whole
    if fraction is None:
        tails = ["0*[1-9][0-9]*"]
    else:
        tails = [
            "0" * zeros
            + "[1-9]"
            + (f"[0-9]{{0,{fraction - zeros - 1}}}" if zeros < fraction - 1 else "")
            for zeros in range(fraction)
        ]
    return f"(?:{whole}|0*\\.(?:{'|'.join(tails)})0*)"


def _integers_below(ceiling: int) -> str:
    """A pattern of the integers 0 .. ceiling - 1, without leading zeros."""
    if ceiling <= 0:
        raise ConfigurationError("an empty range")
    top = str(ceiling - 1)
    forms = ["[0-9]" if len(top) > 1 else ("0" if top == "0" else f"[0-{top}]")]
    for length in range(2, len(top)):
        forms.append(f"[1-9][0-9]{{{length - 1}}}")
    if len(top) > 1:
        for index, digit in enumerate(top):
            first = "1" if index == 0 else "0"
            rest = len(top) - index - 1
            if int(digit) > int(first):
                tail = f"[0-9]{{{rest}}}" if rest else ""
                forms.append(f"{top[:index]}[{first}-{int(digit) - 1}]{tail}")
        forms.append(top)
    return "|".join(forms)


# -- patterns ------------------------------------------------------------------------------

_CATEGORY = re.compile(r"\\([pP])\{([A-Za-z]{1,2})\}")
_UNSUPPORTED = {
    "i": "\\i (XML name start characters)",
    "I": "\\I",
    "c": "\\c (XML name characters)",
    "C": "\\C",
    "w": "\\w (XSD word characters)",
    "W": "\\W",
}
# XSD's \s is XML whitespace only, not ECMA's Unicode spaces.
_XML_SPACE = " \\t\\n\\r"


def translate_pattern(xsd: str) -> str:
    """An XSD regular expression as an anchored ECMA-262 one that Python's `re` reads alike.

    XSD patterns match the whole value; `\\p{..}` categories become explicit ranges (from the
    Unicode tables of this Python), `\\s` XML whitespace, `\\d` an ASCII digit; `^` and `$` are
    literal characters in XSD. Raises ConfigurationError for what has no exact translation.
    """
    out: list[str] = []
    index = 0
    in_class = False
    while index < len(xsd):
        char = xsd[index]
        if char == "\\":
            escape = xsd[index + 1 : index + 2]
            if escape in _UNSUPPORTED:
                raise ConfigurationError(
                    f"XSD pattern {xsd!r}: {_UNSUPPORTED[escape]} has no ECMA-262 form here"
                )
            if escape in "pP":
                match = _CATEGORY.match(xsd, index)
                if match is None:
                    raise ConfigurationError(f"XSD pattern {xsd!r}: unsupported \\{escape} escape")
                ranges = _category_ranges(match.group(2))
                negated = match.group(1) == "P"
                if in_class:
                    if negated:
                        raise ConfigurationError(f"XSD pattern {xsd!r}: \\P inside a class")
                    out.append(ranges)
                else:
                    out.append(f"[{'^' if negated else ''}{ranges}]")
                index = match.end()
                continue
            if escape == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif escape == "D":
                if in_class:
                    raise ConfigurationError(f"XSD pattern {xsd!r}: \\D inside a class")
                out.append("[^0-9]")
            elif escape == "s":
                out.append(_XML_SPACE if in_class else f"[{_XML_SPACE}]")
            elif escape == "S":
                if in_class:
                    raise ConfigurationError(f"XSD pattern {xsd!r}: \\S inside a class")
                out.append(f"[^{_XML_SPACE}]")
            else:
                out.append(xsd[index : index + 2])
            index += 2
            continue
        if in_class:
            if char == "[":
                raise ConfigurationError(
                    f"XSD pattern {xsd!r}: character class subtraction has no ECMA-262 form"
                )
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if xsd[index + 1 : index + 2] == "^":
                out.append("^")
                index += 1
        elif char in "^$":
            out.append("\\" + char)  # literal in XSD
        elif char == "(" and xsd[index + 1 : index + 2] == "?":
            raise ConfigurationError(f"XSD pattern {xsd!r}: '(?' is not XSD syntax")
        else:
            out.append(char)
        index += 1
    return f"^(?:{''.join(out)})$"


@cache
def _category_ranges(category: str) -> str:
    """The code points of a Unicode general category (`Z`, `Cc`, `Lu`...) as class ranges."""
    ranges: list[tuple[int, int]] = []
    for point in range(0x110000):
        if 0xD800 <= point <= 0xDFFF:
            continue
        if unicodedata.category(chr(point)).startswith(category):
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    if not ranges:
        raise ConfigurationError(f"\\p{{{category}}}: no such Unicode category")
    return "".join(
        _class_char(low) if low == high else f"{_class_char(low)}-{_class_char(high)}"
        for low, high in ranges
    )


def _class_char(point: int) -> str:
    # Astral characters as themselves: `\u{..}` is ECMA-only, `\U........` Python-only.
    return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)


# -- canonical fields through a mapping spec ---------------------------------------------------


def canonical_facets(spec: MessageSpec, xsd: XsdJsonSchema) -> dict[str, JsonSchema]:
    """Canonical dotted field path -> the JSON Schema (finished) of the XSD declaration its
    spec path names, with `x-occurs` (min, max) for lists. Fields decoded through a code
    table are left out: their canonical values are not the XML's."""
    found: dict[str, JsonSchema] = {}
    _collect(spec.fields, spec.element, "", "", xsd, found)
    return found


def _collect(
    fields: tuple[FieldSpec, ...],
    element: str,
    xml: str,
    prefix: str,
    xsd: XsdJsonSchema,
    found: dict[str, JsonSchema],
) -> None:
    for field in fields:
        if field.code is not None or len(field.names) != 1:
            continue
        name = prefix + field.names[0]
        path = f"{xml}/{field.path.strip('/')}".strip("/")
        if field.type == "money":
            if field.units != "major":
                continue
            currency = field.currency or ""
            text = "#text" if currency.startswith("@") else None
            amount = xsd.at(element, path)
            found[name + ".amount"] = _leaf(amount, text)
            raw = amount["schema"]["properties"][text] if text else amount["schema"]
            # the facets themselves too: a currency's minor units narrow them further
            found[name + ".amount"]["x-xsd-decimal"] = raw.get("x-xsd-decimal", {})
            where = f"{path}/{currency}" if currency.startswith("@") else f"{xml}/{currency}"
            found[name + ".currency"] = _leaf(xsd.at(element, where.strip("/")))
            continue
        declared = xsd.at(element, path)
        if field.fields is not None:
            group: JsonSchema = {}
            if declared["max"] != 1:
                group["x-occurs"] = [declared["min"], declared["max"]]
            choice = _choice(declared["schema"], field.fields)
            if choice:
                group["x-one-of"] = choice
            if group:
                found[name] = group
            _collect(field.fields, element, path, name + ".", xsd, found)
            continue
        # (an `account_no` is an AccountRef written as one string: its facets are the string's)
        found[name] = _leaf(declared)
        if field.type in _FORMATS_OF_TYPES:
            found[name]["format"] = _FORMATS_OF_TYPES[field.type]


# Spec types that check more than any pattern says (ISO 13616 check digits), as a JSON Schema
# format: an annotation a generator or a client can act on.
_FORMATS_OF_TYPES = {"iban": "iban", "account_no": "account-number"}


def _choice(group: JsonSchema, fields: tuple[FieldSpec, ...]) -> list[str]:
    """The canonical fields of a group that stand for the branches of its XSD choice (exactly
    one of them is set), or none."""
    branches = group.get("oneOf") or []
    chosen = {name for branch in branches for name in branch.get("required", [])}
    names = [f.names[0] for f in fields if len(f.names) == 1 and f.path.split("/")[0] in chosen]
    return names if len(names) == len(branches) and len(names) > 1 else []


def _leaf(declared: JsonSchema, content: str | None = None) -> JsonSchema:
    schema = declared["schema"]
    if content is not None:
        schema = schema["properties"][content]
    schema = finish(schema)
    if declared["max"] != 1:
        schema = dict(schema, **{"x-occurs": [declared["min"], declared["max"]]})
    return schema


def _max_occurs(node: Any) -> int | None:
    value = node.get("maxOccurs", "1")
    return None if value == "unbounded" else int(value)


def _declared_name(element: Any) -> str:
    return str(element.get("name") or _local(element.get("ref")))


def _local(qname: str) -> str:
    return qname.rsplit(":", 1)[-1]


def _resolve(qname: str, context: Any) -> tuple[str, str]:
    prefix, _, local = qname.rpartition(":")
    namespace = context.nsmap.get(prefix or None)
    if namespace is None:
        raise ConfigurationError(f"XSD: unbound prefix in {qname!r}")
    return namespace, local


def _owner(node: Any) -> Any:
    """The complexType a declaration belongs to (the nearest one above it)."""
    parent = node.getparent()
    while parent is not None and parent.tag != f"{_X}complexType":
        parent = parent.getparent()
    return parent


def _choice_of(particle: Any, complex_type: Any) -> Any | None:
    parent = particle.getparent()
    while parent is not None and parent is not complex_type:
        if parent.tag == f"{_X}choice":
            return parent
        parent = parent.getparent()
    return None
