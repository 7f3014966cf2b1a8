"""The JSON Schema of the generic JSON form (`bridge.mapping.generic`), every facet included.

The facet translation is `bridge.mapping.jsonschema`'s (`narrow`, `translate_pattern`,
`decimal_pattern` through `finish`), applied to the schema tree's `Facets` instead of XSD
nodes, so a canonical message's OpenAPI schema and an imported message's say the same things
the same way. The generic form adds what imported contracts use and the bridge's own do not:
floats, lists, unions, and the XSD lexical forms of every date and time type with the zone
optional, as XSD has it.

Where the bridge's canonical schemas refuse what they cannot say exactly, a contract imported
as it is cannot be refused for it: a pattern with no ECMA-262 form (`\\i`, `\\c`, `\\w`,
subtraction) is kept as `x-xsd-pattern`, and a decimal range no pattern writes as
`x-xsd-range`; the codec's XSD validation still enforces both.

Built from the compiled codec (its JSON names, after the spec's renames). A recursive type
becomes a `$defs` entry referenced as `#/$defs/<name>` (or under the prefix a caller that
embeds the schema elsewhere passes).
"""

from __future__ import annotations

from typing import Any

from bridge.domain.errors import ConfigurationError
from bridge.mapping.generic_tree import Complex, Slot
from bridge.mapping.jsonschema import XML_CHARS, builtin_schema, finish, narrow, translate_pattern
from bridge.mapping.xsdtree import INTEGERS, Facets, SimpleType

JsonSchema = dict[str, Any]

# The XSD lexical forms exactly as libxml2 checks them, so that a schema-valid value is one the
# contract takes: months, days of the month (29 February in leap years only), hours up to
# 24:00:00, zones up to 14:00, no year 0000 (XSD 1.0), and a year of more than four digits
# without a leading zero, at most 18.
_ZONE = "(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_YEAR = "-?(?:[1-9][0-9]{4,17}|(?!0000)[0-9]{4})"  # libxml2 reads a year as a long
_MONTH = "(?:0[1-9]|1[0-2])"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP = "(?=-?[0-9]*(?:0[48]|[2468][048]|[13579][26]|(?:[02468][048]|[13579][26])00)-)"
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP}{_YEAR}-02-29)"
_SECONDS = "(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?|24:00:00(?:\\.0+)?)"
LEXICAL = {
    "date": f"^{_DATE}{_ZONE}$",
    "dateTime": f"^{_DATE}T{_SECONDS}{_ZONE}$",
    "time": f"^{_SECONDS}{_ZONE}$",
    "gYear": f"^{_YEAR}{_ZONE}$",
    "gYearMonth": f"^{_YEAR}-{_MONTH}{_ZONE}$",
    "gMonthDay": f"^--(?:{_MONTH_DAY}|02-29){_ZONE}$",
    "gDay": f"^---(?:0[1-9]|[12][0-9]|3[01]){_ZONE}$",
    "gMonth": f"^--{_MONTH}{_ZONE}$",
    "language": "^[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*$",
    "duration": (
        "^-?P(?=[0-9T])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?"
        "(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\\.[0-9]+)?S)?)?$"
    ),
    "hexBinary": "^(?:[0-9a-fA-F]{2})*$",
    "base64Binary": "^[A-Za-z0-9+/= \\t\\n\\r]*$",
}
_BINARY = frozenset({"hexBinary", "base64Binary"})
_DELEGATED = frozenset({"boolean", "decimal", "anyURI"})
_RANGES = ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive")
_FACET_NAMES = {
    "length": "length",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_inclusive": "minInclusive",
    "max_inclusive": "maxInclusive",
    "min_exclusive": "minExclusive",
    "max_exclusive": "maxExclusive",
    "total_digits": "totalDigits",
    "fraction_digits": "fractionDigits",
}


def json_schema_of(body: Complex, *, nillable: bool, refs: str = "#/$defs/") -> JsonSchema:
    """The JSON Schema of a message whose content `body` compiles; `$ref`s to recursive
    types start with `refs`."""
    builder = _Builder(refs)
    schema = builder.complex(body)
    if nillable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if builder.defs:
        schema = {**schema, "$defs": builder.defs}
    return schema


class _Builder:
    def __init__(self, refs: str) -> None:
        self.refs = refs
        self.defs: dict[str, JsonSchema] = {}
        self._names: dict[int, str] = {}
        self._open: set[int] = set()
        self._recursive: set[int] = set()
        self._scalars: dict[int, JsonSchema] = {}

    def _name(self, compiled: Complex) -> str:
        name = self._names.get(id(compiled))
        if name is None:
            ctype = compiled.ctype
            base = (ctype.name or "anonymous").rpartition("}")[2]
            name, counter = base, 1
            while name in self._names.values():
                counter += 1
                name = f"{base}{counter}"
            self._names[id(compiled)] = name
        return name

    def complex(self, compiled: Complex) -> JsonSchema:
        key = id(compiled)
        if key in self._open or key in self._recursive:
            self._recursive.add(key)
            return {"$ref": f"{self.refs}{self._name(compiled)}"}
        self._open.add(key)
        try:
            schema = self._object(compiled)
        finally:
            self._open.discard(key)
        if key in self._recursive:
            self.defs[self._name(compiled)] = schema
            return {"$ref": f"{self.refs}{self._name(compiled)}"}
        return schema

    def _object(self, compiled: Complex) -> JsonSchema:
        properties: dict[str, JsonSchema] = {}
        for attr in compiled.attrs:
            if attr.key is not None:
                declared = self.scalar(attr.scalar.simple)
                if attr.attribute.fixed is not None:
                    declared = {**declared, "const": _typed(declared, attr.attribute.fixed)}
                properties[attr.key] = declared
        if compiled.text is not None and compiled.text_key is not None:
            properties[compiled.text_key] = self.scalar(compiled.text.simple)
        for slot in compiled.slots:
            if slot.key is not None:
                properties[slot.key] = self._element(slot)
        wildcard = compiled.wildcard
        if wildcard is not None and wildcard.key is not None:
            items: JsonSchema = {"type": "string", "contentMediaType": "application/xml"}
            properties[wildcard.key] = {"type": "array", "items": items}
        schema: JsonSchema = {"type": "object", "properties": properties}
        if compiled.required:
            schema["required"] = list(compiled.required)
        schema["additionalProperties"] = False
        alternatives = [_choice(choice.branches, choice.required) for choice in compiled.choices]
        if len(alternatives) == 1:
            schema["oneOf"] = alternatives[0]
        elif alternatives:
            schema["allOf"] = [{"oneOf": one} for one in alternatives]
        return schema

    def _element(self, slot: Slot) -> JsonSchema:
        if slot.scalar is not None:
            schema = self.scalar(slot.scalar.simple)
        else:
            assert slot.complex is not None
            schema = self.complex(slot.complex)
        if slot.element.nillable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if not slot.array:
            return schema
        array: JsonSchema = {"type": "array", "items": schema}
        if slot.min_items:
            array["minItems"] = slot.min_items
        if slot.max_items is not None:
            array["maxItems"] = slot.max_items
        return array

    def scalar(self, simple: SimpleType) -> JsonSchema:
        found = self._scalars.get(id(simple))
        if found is None:
            found = scalar_schema(simple)
            self._scalars[id(simple)] = found
        return found


def _choice(branches: list[list[str]], required: bool) -> list[JsonSchema]:
    """One alternative per branch: some key of the branch present, none of the others'; and,
    when the choice may be left out, an alternative with no branch's key at all."""
    every = [key for branch in branches for key in branch]
    alternatives: list[JsonSchema] = []
    for branch in branches:
        alternative: JsonSchema = (
            {"required": branch}
            if len(branch) == 1
            else {"anyOf": [{"required": [k]} for k in branch]}
        )
        others = {key: False for key in every if key not in branch}
        if others:
            alternative["properties"] = others
        alternatives.append(alternative)
    if not required:
        alternatives.append({"properties": {key: False for key in every}})
    return alternatives


def scalar_schema(simple: SimpleType) -> JsonSchema:
    """A simple type's JSON Schema: its built-in's, narrowed by every facet of its derivation."""
    if simple.item is not None:
        schema: JsonSchema = {"type": "array", "items": scalar_schema(simple.item)}
        facets = simple.facets
        low = facets.length if facets.length is not None else facets.min_length
        high = facets.length if facets.length is not None else facets.max_length
        if low:
            schema["minItems"] = low
        if high is not None:
            schema["maxItems"] = high
        return schema
    if simple.members:
        schema = {"type": "string", "pattern": XML_CHARS}
        if simple.facets.enumeration:
            schema["enum"] = list(simple.facets.enumeration)
        return schema
    builtin = simple.builtin
    if builtin in ("float", "double"):
        return _number(simple.facets)
    if builtin in LEXICAL:
        schema = {"type": "string", "pattern": LEXICAL[builtin]}
    elif builtin in _DELEGATED or builtin in INTEGERS:
        schema = builtin_schema(builtin)
    else:
        schema = {"type": "string", "pattern": XML_CHARS}
    return _narrowed(schema, simple.facets, binary=builtin in _BINARY)


def _narrowed(schema: JsonSchema, facets: Facets, *, binary: bool) -> JsonSchema:
    values = {
        xsd: str(getattr(facets, name))
        for name, xsd in _FACET_NAMES.items()
        if getattr(facets, name) is not None
    }
    if binary:  # lengths count octets, not characters of the encoding
        lengths = {k: values.pop(k) for k in ("length", "minLength", "maxLength") if k in values}
        if lengths:
            schema["x-xsd-octets"] = lengths
    if schema.get("type") not in ("integer",) and "x-xsd-decimal" not in schema:
        for name in _RANGES:  # dates and strings: XSD orders them, JSON Schema cannot
            if name in values:
                schema.setdefault("x-xsd-range", {})[name] = values.pop(name)
    untranslated: list[str] = []
    first = True
    for step in [[pattern] for pattern in facets.patterns] or [[]]:
        try:
            for pattern in step:
                translate_pattern(pattern)
        except ConfigurationError:
            untranslated += step
            step = []
        schema = narrow(
            schema,
            values if first else {},
            step,
            list(facets.enumeration) if first else [],
        )
        first = False
    if untranslated:
        schema["x-xsd-pattern"] = untranslated
    return _finished(schema)


def _finished(schema: JsonSchema) -> JsonSchema:
    """`finish` (a decimal's facets as its pattern); a range no pattern can say is kept as
    `x-xsd-range`, the digits still in the pattern."""
    try:
        return finish(schema)
    except ConfigurationError:
        decimal = dict(schema["x-xsd-decimal"])
        ranges = {name: decimal.pop(name) for name in _RANGES if name in decimal}
        done = finish({**schema, "x-xsd-decimal": decimal})
        done["x-xsd-range"] = ranges
        return done


def _number(facets: Facets) -> JsonSchema:
    schema: JsonSchema = {"type": "number"}
    bounds = {
        "minimum": facets.min_inclusive,
        "maximum": facets.max_inclusive,
        "exclusiveMinimum": facets.min_exclusive,
        "exclusiveMaximum": facets.max_exclusive,
    }
    for keyword, value in bounds.items():
        if value is not None and value not in ("INF", "-INF", "NaN"):
            schema[keyword] = float(value)
    if facets.enumeration:
        schema["enum"] = [float(v) for v in facets.enumeration]
    return schema


def _typed(schema: JsonSchema, text: str) -> Any:
    """A fixed value in the JSON type of its schema."""
    kind = schema.get("type")
    if kind == "integer":
        return int(text)
    if kind == "boolean":
        return text.strip() in ("true", "1")
    if kind == "number":
        return float(text)
    return text
