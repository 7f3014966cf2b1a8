"""The declarations of a set of XML Schema documents as a tree of typed nodes.

`SchemaSet(documents, validator)` holds every `<xs:schema>` of one contract (a WSDL's inline
schemas and the files they import or include, already loaded and checked by
`bridge.contracts.loader`) and the one compiled validator of them all. `.element(clark)` gives
the tree of a global element: every particle with its occurrence, every type resolved to a
`SimpleType` (built-in base and facets) or a `ComplexType` (attributes, model group, simple
content; an extension carries its base's attributes and content first). Named complex types
are built once and shared, so a recursive type is a cycle in the tree, not an endless one.

Built once at start-up; the codecs, JSON Schemas, sample generator, strategies and the
contract diff all read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.validation import ContractSchema

Occurs = int | None  # None: unbounded


@dataclass(frozen=True, slots=True)
class Facets:
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    patterns: tuple[
        str, ...
    ] = ()  # XSD regular expressions, all must match (one per derivation step)
    enumeration: tuple[str, ...] = ()
    min_inclusive: str | None = None
    max_inclusive: str | None = None
    min_exclusive: str | None = None
    max_exclusive: str | None = None
    total_digits: int | None = None
    fraction_digits: int | None = None
    white_space: str | None = None


@dataclass(frozen=True, slots=True)
class SimpleType:
    """`builtin` is the local name of the XSD built-in type it derives from (`decimal`,
    `date`, `string`, `boolean`, `int`, ...), `facets` every restriction on the way."""

    name: str | None  # Clark name of a named type; None for an anonymous one or a built-in
    builtin: str
    facets: Facets = Facets()
    item: SimpleType | None = None  # xs:list of this type
    members: tuple[SimpleType, ...] = ()  # xs:union of these


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str  # local name
    namespace: str | None  # None: unqualified
    type: SimpleType
    required: bool = False
    default: str | None = None
    fixed: str | None = None


@dataclass(eq=False, slots=True)
class Wildcard:
    """`xs:any`."""

    namespace: str = "##any"
    process_contents: str = "strict"
    min_occurs: int = 1
    max_occurs: Occurs = 1


@dataclass(eq=False, slots=True)
class Group:
    """A model group: `sequence`, `choice` or `all`, with its own occurrence."""

    kind: Literal["sequence", "choice", "all"]
    particles: list[Element | Group | Wildcard] = field(default_factory=list)
    min_occurs: int = 1
    max_occurs: Occurs = 1


@dataclass(eq=False, slots=True, repr=False)
class ComplexType:
    name: str | None  # Clark name of a named type; None for an anonymous one
    attributes: list[Attribute] = field(default_factory=list)
    content: Group | None = None  # element content; None: empty or simple content
    simple: SimpleType | None = None  # simple content (text with attributes)
    mixed: bool = False
    base: str | None = None  # Clark name of the type it extends or restricts, if any
    abstract: bool = False

    def __repr__(self) -> str:
        # Not the fields: a recursive type is a cycle, and the generated repr would not end.
        return f"ComplexType({self.name or 'anonymous'})"


@dataclass(eq=False, slots=True)
class Element:
    name: str  # local name
    namespace: str | None  # None: unqualified (elementFormDefault / form)
    type: SimpleType | ComplexType
    min_occurs: int = 1
    max_occurs: Occurs = 1
    nillable: bool = False
    default: str | None = None
    fixed: str | None = None

    @property
    def clark(self) -> str:
        return f"{{{self.namespace}}}{self.name}" if self.namespace else self.name


XS = "http://www.w3.org/2001/XMLSchema"
_X = f"{{{XS}}}"
_COMPONENTS = {
    "element": "element",
    "complexType": "type",
    "simpleType": "type",
    "group": "group",
    "attributeGroup": "attributeGroup",
    "attribute": "attribute",
}
# Built-in types that are lists of another built-in.
_BUILTIN_LISTS = {"NMTOKENS": "NMTOKEN", "IDREFS": "IDREF", "ENTITIES": "ENTITY"}
_STRING = SimpleType(None, "string")
_ANY_TYPE = f"{{{XS}}}anyType"


class SchemaSet:
    """Every global component of a contract's schema documents, translated on demand.

    Nothing is built until asked for: `element()` and `type()` translate what they reach and
    memoise each named type, so a schema of thousands of types costs only the index at start-up.
    Not thread-safe while building; the catalog builds everything it needs once at start-up.
    """

    def __init__(self, documents: Sequence[Any], validator: ContractSchema) -> None:
        self.validator = validator
        self._index: dict[str, dict[str, tuple[Any, _Document]]] = {
            kind: {} for kind in set(_COMPONENTS.values())
        }
        self._heads: set[str] = set()  # elements other elements name as substitutionGroup
        for schema in documents:
            document = _Document(schema)
            for child in schema:
                if not isinstance(child.tag, str) or not child.tag.startswith(_X):
                    continue
                local = child.tag[len(_X) :]
                if local in ("redefine", "override"):
                    raise ConfigurationError(
                        f"XSD {document.target or '(no namespace)'} line {child.sourceline}: "
                        f"xs:{local} is not supported"
                    )
                kind = _COMPONENTS.get(local)
                if kind is None or child.get("name") is None:
                    continue
                self._index[kind][document.clark(child.get("name"))] = (child, document)
                head = child.get("substitutionGroup") if local == "element" else None
                if head:
                    for name in head.split():
                        self._heads.add(_qname(name, child))
        self._types: dict[str, SimpleType | ComplexType] = {}
        self._elements: dict[str, Element] = {}
        self._anonymous: dict[Any, ComplexType] = {}

    # -- the public lookups ----------------------------------------------------------------

    def elements(self) -> list[str]:
        """The Clark names of every global element, sorted."""
        return sorted(self._index["element"])

    def element(self, clark: str) -> Element:
        """The tree of a global element (built on first use, then shared)."""
        found = self._elements.get(clark)
        if found is None:
            node, document = self._lookup("element", clark)
            found = self._declare(node, document, global_=True)
            self._elements[clark] = found
        return found

    def type(self, clark: str) -> SimpleType | ComplexType:
        """A named type or an XSD built-in (`{http://www.w3.org/2001/XMLSchema}date`)."""
        found = self._types.get(clark)
        if found is not None:
            return found
        namespace, _, local = clark[1:].partition("}") if clark.startswith("{") else ("", "", clark)
        if namespace == XS:
            return self._builtin(local)
        node, document = self._lookup("type", clark)
        if node.tag == f"{_X}simpleType":
            simple = self._simple(node, document, clark)
            self._types[clark] = simple
            return simple
        complex_type = ComplexType(name=clark)
        self._types[clark] = complex_type  # before its content: a recursive type refers to it
        self._fill_complex(complex_type, node, document)
        return complex_type

    # -- components ------------------------------------------------------------------------

    def _lookup(self, kind: str, clark: str) -> tuple[Any, _Document]:
        try:
            return self._index[kind][clark]
        except KeyError:
            raise ConfigurationError(f"XSD: no {_KIND_NAMES[kind]} {clark!r} is declared") from None

    def _builtin(self, local: str) -> SimpleType | ComplexType:
        if local in ("anyType",):
            return self._any_type()
        if local in _BUILTIN_LISTS:
            return SimpleType(None, local, item=SimpleType(None, _BUILTIN_LISTS[local]))
        if local not in BUILTINS:
            raise ConfigurationError(f"XSD: xs:{local} is not a built-in type")
        return SimpleType(None, local)

    def _any_type(self) -> ComplexType:
        found = self._types.get(_ANY_TYPE)
        if isinstance(found, ComplexType):
            return found
        wildcard = Wildcard(
            namespace="##any", process_contents="lax", min_occurs=0, max_occurs=None
        )
        any_type = ComplexType(_ANY_TYPE, content=Group("sequence", [wildcard]), mixed=True)
        self._types[_ANY_TYPE] = any_type
        return any_type

    def _type_named(self, qname: str, context: Any) -> SimpleType | ComplexType:
        return self.type(_qname(qname, context))

    def _declare(self, node: Any, document: _Document, *, global_: bool = False) -> Element:
        """An element declaration (global, local or a reference) as an Element."""
        occurs = _occurs(node)
        ref = node.get("ref")
        if ref is not None:
            clark = _qname(ref, node)
            target = self.element(clark)
            if clark in self._heads:
                raise ConfigurationError(
                    f"XSD line {node.sourceline}: element {clark} heads a substitution group, "
                    "which is not supported"
                )
            return Element(
                name=target.name,
                namespace=target.namespace,
                type=target.type,
                min_occurs=occurs[0],
                max_occurs=occurs[1],
                nillable=target.nillable,
                default=target.default,
                fixed=target.fixed,
            )
        name = node.get("name")
        form = node.get("form") or ("qualified" if global_ or document.qualified else "")
        if node.get("abstract") == "true":
            raise ConfigurationError(
                f"XSD line {node.sourceline}: abstract element {name!r} is not supported"
            )
        return Element(
            name=name,
            namespace=document.target if form == "qualified" else None,
            type=self._type_of(node, document),
            min_occurs=1 if global_ else occurs[0],
            max_occurs=1 if global_ else occurs[1],
            nillable=node.get("nillable") in ("true", "1"),
            default=node.get("default"),
            fixed=node.get("fixed"),
        )

    def _type_of(self, node: Any, document: _Document) -> SimpleType | ComplexType:
        """The type of an element or attribute declaration: inline, named, or xs:anyType."""
        for child in node:
            if child.tag == f"{_X}complexType":
                found = self._anonymous.get(child)
                if found is None:
                    found = ComplexType(name=None)
                    self._anonymous[child] = found  # an element of it may refer to it again
                    self._fill_complex(found, child, document)
                return found
            if child.tag == f"{_X}simpleType":
                return self._simple(child, document, None)
        if node.get("type") is not None:
            return self._type_named(node.get("type"), node)
        if node.tag == f"{_X}attribute":
            return SimpleType(None, "anySimpleType")
        return self._any_type()

    # -- simple types ----------------------------------------------------------------------

    def _simple(self, node: Any, document: _Document, name: str | None) -> SimpleType:
        for child in node:
            if child.tag == f"{_X}restriction":
                base = self._restriction_base(child, document)
                return _restricted(base, child, name)
            if child.tag == f"{_X}list":
                item_name = child.get("itemType")
                inline = child.find(f"{_X}simpleType")
                item = (
                    self._simple(inline, document, None)
                    if inline is not None
                    else self._simple_named(item_name, child)
                )
                return SimpleType(name, "anySimpleType", item=item)
            if child.tag == f"{_X}union":
                members = [
                    self._simple_named(m, child) for m in (child.get("memberTypes") or "").split()
                ]
                members += [
                    self._simple(s, document, None) for s in child.iterchildren(f"{_X}simpleType")
                ]
                return SimpleType(name, "anySimpleType", members=tuple(members))
        raise ConfigurationError(f"XSD line {node.sourceline}: a simpleType without a derivation")

    def _simple_named(self, qname: str | None, context: Any) -> SimpleType:
        found = self._type_named(qname or "", context)
        if not isinstance(found, SimpleType):
            raise ConfigurationError(
                f"XSD line {context.sourceline}: {qname!r} is a complex type, not a simple one"
            )
        return found

    def _restriction_base(self, node: Any, document: _Document) -> SimpleType:
        inline = node.find(f"{_X}simpleType")
        if inline is not None:
            return self._simple(inline, document, None)
        base = self._type_named(node.get("base", ""), node)
        if isinstance(base, ComplexType):
            if base.simple is None:
                raise ConfigurationError(
                    f"XSD line {node.sourceline}: {base.name} has no simple content to restrict"
                )
            return base.simple
        return base

    # -- complex types ---------------------------------------------------------------------

    def _fill_complex(self, target: ComplexType, node: Any, document: _Document) -> None:
        """Fill `target` (already memoised) from a complexType node. Attributes and the
        content's outer group are set before any particle is translated, so a type reached
        again through its own particles (or a type extending it) sees them."""
        target.abstract = node.get("abstract") in ("true", "1")
        target.mixed = node.get("mixed") in ("true", "1")
        model: Any = None
        own = node
        derivation: Any = None
        for child in node:
            if child.tag in (f"{_X}complexContent", f"{_X}simpleContent"):
                derivation = next(
                    (d for d in child if d.tag in (f"{_X}extension", f"{_X}restriction")), None
                )
                if derivation is None:
                    raise ConfigurationError(f"XSD line {child.sourceline}: no derivation")
                if child.get("mixed") in ("true", "1"):
                    target.mixed = True
                own = derivation
                break
        if derivation is not None:
            target.base = _qname(derivation.get("base", ""), derivation)
            base = self.type(target.base)
            simple = derivation.getparent().tag == f"{_X}simpleContent"
            extension = derivation.tag == f"{_X}extension"
            own_attributes = self._attributes(derivation, document)
            if isinstance(base, SimpleType):
                target.simple = base
                target.attributes = own_attributes
            elif extension:
                target.simple = base.simple
                target.attributes = _merged(base.attributes, own_attributes)
            else:
                target.simple = (
                    _restricted(base.simple, derivation, None)
                    if simple and base.simple is not None
                    else None
                )
                target.attributes = _merged(base.attributes, own_attributes)
            target.attributes = [
                a for a in target.attributes if a.name not in _prohibited(derivation)
            ]
            if simple:
                return
            model = _model_group(derivation)
            if extension and isinstance(base, ComplexType) and base.content is not None:
                own_group = self._group_shell(model) if model is not None else None
                target.content = (
                    Group("sequence", [base.content, own_group]) if own_group else base.content
                )
                if own_group is not None:
                    self._fill_group(own_group, model, document)
                return
        else:
            target.attributes = self._attributes(own, document)
            model = _model_group(own)
        if model is not None:
            shell = self._group_shell(model)
            target.content = shell
            self._fill_group(shell, model, document)

    def _group_shell(self, node: Any) -> Group:
        """The Group of a sequence/choice/all or a group reference, its particles not yet
        translated."""
        occurs = _occurs(node)
        if node.tag == f"{_X}group":
            definition, _ = self._lookup("group", _qname(node.get("ref", ""), node))
            inner = _model_group(definition)
            if inner is None:
                return Group("sequence", [], *occurs)
            return Group(etree.QName(inner).localname, [], *occurs)  # type: ignore[arg-type]
        return Group(etree.QName(node).localname, [], *occurs)  # type: ignore[arg-type]

    def _fill_group(self, group: Group, node: Any, document: _Document) -> None:
        if node.tag == f"{_X}group":
            definition, document = self._lookup("group", _qname(node.get("ref", ""), node))
            node = _model_group(definition)
            if node is None:
                return
        for child in node:
            tag = child.tag
            if tag == f"{_X}element":
                group.particles.append(self._declare(child, document))
            elif tag in (f"{_X}sequence", f"{_X}choice", f"{_X}all", f"{_X}group"):
                inner = self._group_shell(child)
                self._fill_group(inner, child, document)
                group.particles.append(inner)
            elif tag == f"{_X}any":
                low, high = _occurs(child)
                group.particles.append(
                    Wildcard(
                        namespace=child.get("namespace", "##any"),
                        process_contents=child.get("processContents", "strict"),
                        min_occurs=low,
                        max_occurs=high,
                    )
                )

    def _attributes(self, node: Any, document: _Document) -> list[Attribute]:
        found: list[Attribute] = []
        for child in node:
            if child.tag == f"{_X}attribute":
                if child.get("use") == "prohibited":
                    continue
                found.append(self._attribute(child, document))
            elif child.tag == f"{_X}attributeGroup":
                definition, defined_in = self._lookup(
                    "attributeGroup", _qname(child.get("ref", ""), child)
                )
                found = _merged(found, self._attributes(definition, defined_in))
        return found

    def _attribute(self, node: Any, document: _Document) -> Attribute:
        required = node.get("use") == "required"
        ref = node.get("ref")
        if ref is not None:
            clark = _qname(ref, node)
            definition, defined_in = self._lookup("attribute", clark)
            declared = self._attribute(definition, defined_in)
            return Attribute(
                name=declared.name,
                namespace=defined_in.target or None,
                type=declared.type,
                required=required,
                default=node.get("default", declared.default),
                fixed=node.get("fixed", declared.fixed),
            )
        global_ = node.getparent() is not None and node.getparent().tag == f"{_X}schema"
        form = node.get("form") or ("qualified" if global_ or document.attributes_qualified else "")
        simple = self._type_of(node, document)
        if not isinstance(simple, SimpleType):
            raise ConfigurationError(f"XSD line {node.sourceline}: an attribute of complex type")
        return Attribute(
            name=node.get("name"),
            namespace=(document.target or None) if form == "qualified" else None,
            type=simple,
            required=required,
            default=node.get("default"),
            fixed=node.get("fixed"),
        )


_KIND_NAMES = {
    "element": "global element",
    "type": "type",
    "group": "group",
    "attributeGroup": "attribute group",
    "attribute": "global attribute",
}


class _Document:
    """What a schema document says about the names it declares."""

    __slots__ = ("attributes_qualified", "qualified", "target")

    def __init__(self, schema: Any) -> None:
        self.target: str = schema.get("targetNamespace", "")
        self.qualified = schema.get("elementFormDefault") == "qualified"
        self.attributes_qualified = schema.get("attributeFormDefault") == "qualified"

    def clark(self, name: str) -> str:
        return f"{{{self.target}}}{name}" if self.target else name


def _qname(qname: str, context: Any) -> str:
    """A QName attribute value (`tns:Party`) as a Clark name, by the prefixes in scope."""
    prefix, _, local = qname.strip().rpartition(":")
    namespace = context.nsmap.get(prefix or None)
    if namespace is None:
        if prefix:
            raise ConfigurationError(
                f"XSD line {context.sourceline}: prefix {prefix!r} of {qname!r} is not declared"
            )
        return local
    return f"{{{namespace}}}{local}"


def _occurs(node: Any) -> tuple[int, Occurs]:
    high = node.get("maxOccurs", "1")
    return int(node.get("minOccurs", "1")), None if high == "unbounded" else int(high)


def _model_group(node: Any) -> Any | None:
    for child in node:
        if child.tag in (f"{_X}sequence", f"{_X}choice", f"{_X}all", f"{_X}group"):
            return child
    return None


def _merged(base: list[Attribute], own: list[Attribute]) -> list[Attribute]:
    """A base's attributes with those redeclared (same name) replaced, then the new ones."""
    names = {(a.name, a.namespace) for a in own}
    return [a for a in base if (a.name, a.namespace) not in names] + own


def _prohibited(derivation: Any) -> set[str]:
    return {
        a.get("name") or a.get("ref", "").rpartition(":")[2]
        for a in derivation.iterchildren(f"{_X}attribute")
        if a.get("use") == "prohibited"
    }


_FACET_FIELDS = {
    "length": "length",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minInclusive": "min_inclusive",
    "maxInclusive": "max_inclusive",
    "minExclusive": "min_exclusive",
    "maxExclusive": "max_exclusive",
    "totalDigits": "total_digits",
    "fractionDigits": "fraction_digits",
    "whiteSpace": "white_space",
}
_INT_FACETS = {"length", "min_length", "max_length", "total_digits", "fraction_digits"}


def _restricted(base: SimpleType, restriction: Any, name: str | None) -> SimpleType:
    """`base` narrowed by the facets of one xs:restriction. Several patterns in one step are
    alternatives (one XSD pattern joined by `|`); each step's pattern must match."""
    changes: dict[str, Any] = {}
    patterns: list[str] = []
    enumeration: list[str] = []
    for facet in restriction:
        if not isinstance(facet.tag, str) or not facet.tag.startswith(_X):
            continue
        local = facet.tag[len(_X) :]
        value = facet.get("value")
        if local == "pattern":
            patterns.append(value)
        elif local == "enumeration":
            enumeration.append(value)
        elif local in _FACET_FIELDS:
            field_name = _FACET_FIELDS[local]
            changes[field_name] = int(value) if field_name in _INT_FACETS else value
    if patterns:
        joined = patterns[0] if len(patterns) == 1 else "|".join(f"({p})" for p in patterns)
        changes["patterns"] = (*base.facets.patterns, joined)
    if enumeration:
        changes["enumeration"] = tuple(enumeration)
    facets = replace(base.facets, **changes) if changes else base.facets
    return SimpleType(name, base.builtin, facets, item=base.item, members=base.members)


# XSD 1.0's built-in simple types (besides the three lists, anyType and anySimpleType's kin).
BUILTINS = frozenset(
    {
        "anySimpleType", "string", "normalizedString", "token", "language", "Name", "NCName",
        "NMTOKEN", "ID", "IDREF", "ENTITY", "anyURI", "QName", "NOTATION", "boolean", "decimal",
        "integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "unsignedLong", "unsignedInt", "unsignedShort",
        "unsignedByte", "float", "double", "duration", "dateTime", "time", "date", "gYearMonth",
        "gYear", "gMonthDay", "gDay", "gMonth", "hexBinary", "base64Binary",
    }
)  # fmt: skip

# The built-ins whose values are integers, and the floating-point ones.
INTEGERS = frozenset(
    {
        "integer", "long", "int", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
        "unsignedShort", "unsignedByte",
    }
)  # fmt: skip
FLOATS = frozenset({"float", "double"})
