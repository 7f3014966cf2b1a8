"""The generic JSON form of any XML Schema element, and the codec between it and XML.

An imported WSDL has no canonical dataclass: its messages travel as JSON shaped by the XSD
itself, one documented rule per construct (the README's "Bring your own WSDL" shows examples):

    element                    its local name as the key (a mapping spec may rename it)
    attribute                  "@name"
    simple content             "#text" (beside the attributes)
    maxOccurs > 1              a JSON array, also when an enclosing group repeats
    xs:choice                  exactly one branch's keys present (JSON Schema `oneOf`)
    nillable                   null (xsi:nil="true")
    xs:decimal                 a string in xs:decimal's lexical form: exact, ASCII digits, no
                               exponent; never a JSON number (as at every door of the bridge)
    integers                   JSON integers of any size
    xs:boolean                 true / false
    xs:float, xs:double        numbers
    xs:list                    an array of its items
    dates, times, durations,   strings exactly as in XML (a zone is kept as written)
    binaries, QNames, unions
    xs:any                     "##any": a list of XML strings
    the message                the JSON object of the root element's content: for a wrapped
                               message (RPC, document/literal wrapped) the wrapper's children;
                               a root of simple type is {"#text": value}

A mixed type's text (xs:anyType's too) is "#text" as well, optional: read as all its text
joined, written before the child elements. Not carried: where that text stood between the
children, namespace bindings a QName value relies on, xsi:type (an abstract type is refused when
compiled), and the order of items of different arrays inside a repeated choice or group (they
are written round by round in the contract's order, which the schema accepts).

`compile_codec(root, spec)` builds a `MessageCodec` once: per complex type a table of slots
(tag -> JSON key, value codec, occurrence) and a tree of its model groups, so that writing and
reading walk the message, never the schema. Writing checks JSON types and lexical forms and
names the JSON field (`line[1].price.#text`); then the contract's validator checks the facets,
and its complaint is named by JSON field too. Reading refuses an element the contract does not
declare where it stands: a reply that does not fit its contract is not passed on as a guess.

The compiled nodes are `bridge.mapping.generic_tree`'s, the JSON <-> text conversions
`generic_values`', the JSON Schema `generic_schema`'s; this module compiles and names fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError, MappingError
from bridge.mapping import xml
from bridge.mapping.generic_schema import json_schema_of
from bridge.mapping.generic_tree import (
    ANY,
    NIL,
    TEXT,
    XSI,
    XSI_NIL,
    Attr,
    Choice,
    Complex,
    Particles,
    Slot,
    WildcardSlot,
)
from bridge.mapping.generic_values import Scalar
from bridge.mapping.scalars import escape
from bridge.mapping.spec import FieldSpec, MessageSpec
from bridge.mapping.validation import ContractSchema, Violation
from bridge.mapping.xsdtree import ComplexType, Element, Group, Occurs, SimpleType, Wildcard

_MIXED_TEXT = SimpleType(None, "string")

__all__ = ["ANY", "TEXT", "MessageCodec", "compile_codec", "default_spec", "json_field"]


# -- compiling -------------------------------------------------------------------------------


class _Compiler:
    """Compiles complex types against a spec. Without a spec (or below a field the spec gives
    no `fields` for) names are the XSD's and each complex type is compiled once, so that a
    recursive type compiles to a cycle."""

    def __init__(self, spec_name: str) -> None:
        self.spec_name = spec_name
        self.identity: dict[int, Complex] = {}
        self.prefixes: dict[str, str] = {}

    def qname(self, namespace: str | None, local: str) -> str:
        """The prefixed name the writer uses; each namespace gets its prefix once per codec."""
        if not namespace:
            return local
        prefix = self.prefixes.get(namespace)
        if prefix is None:
            prefix = self.prefixes[namespace] = f"n{len(self.prefixes)}"
        return f"{prefix}:{local}"

    def declarations(self) -> str:
        found = "".join(f' xmlns:{p}="{escape(ns)}"' for ns, p in self.prefixes.items())
        return f'{found} xmlns:xsi="{XSI}"'

    def fail(self, where: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"mapping spec {self.spec_name}: field {where}: {message}")

    def complex(
        self, ctype: ComplexType, fields: tuple[FieldSpec, ...] | None, where: str, target: str
    ) -> Complex:
        if fields is None:
            found = self.identity.get(id(ctype))
            if found is not None:
                return found
        if ctype.abstract:
            raise self.fail(where or "(message)", f"type {ctype.name} is abstract (xsi:type)")
        compiled = Complex(ctype)
        if fields is None:
            self.identity[id(ctype)] = compiled
        self._fill(compiled, fields, where, target)
        return compiled

    def _fill(
        self, compiled: Complex, fields: tuple[FieldSpec, ...] | None, where: str, target: str
    ) -> None:
        ctype = compiled.ctype
        elements = list(_elements(ctype.content)) if ctype.content is not None else []
        wildcards = list(_wildcards(ctype.content)) if ctype.content is not None else []
        names: dict[str, tuple[str, Any]] = {}  # XSD name in a spec path -> (kind, declaration)
        for attribute in ctype.attributes:
            names["@" + attribute.name] = ("attribute", attribute)
        if ctype.simple is not None:
            names[TEXT] = ("text", ctype.simple)
        elif ctype.mixed:
            names[TEXT] = ("mixed", None)
        for element, _ in elements:
            if element.name in names:
                raise self.fail(
                    _dotted(where, element.name),
                    f"two elements named {element.name!r} in one type: not supported",
                )
            names[element.name] = ("element", element)
        if wildcards:
            names[ANY] = ("any", wildcards[0])
        chosen = self._chosen(names, fields, where)
        keys: list[str] = []
        for attribute in ctype.attributes:
            key, _ = chosen.get("@" + attribute.name, (None, None))
            attr = Attr(attribute, key, self.qname(attribute.namespace, attribute.name))
            compiled.attrs.append(attr)
            compiled.attrs_by_clark[attr.clark] = attr
            if key is not None:
                keys.append(key)
        if ctype.simple is not None:
            key, _ = chosen.get(TEXT, (None, None))
            if key is None:
                raise self.fail(_dotted(where, TEXT), "the text of this element must be mapped")
            compiled.text = Scalar(ctype.simple)
            compiled.text_key = key
            keys.append(key)
        elif ctype.mixed and TEXT in chosen:
            compiled.text = Scalar(_MIXED_TEXT)
            compiled.text_key = chosen[TEXT][0]
            compiled.mixed = True
            keys.append(compiled.text_key)
        slot_of: dict[int, Slot] = {}
        for element, within in elements:
            key, nested = chosen.get(element.name, (None, None))
            slot = Slot(element, key, within, self.qname(element.namespace, element.name))
            if slot.clark in compiled.slots_by_clark:
                raise self.fail(_dotted(where, element.name), "declared twice in one type")
            compiled.slots.append(slot)
            compiled.slots_by_clark[slot.clark] = slot
            slot_of[id(element)] = slot
            if key is not None:
                keys.append(key)
            if isinstance(element.type, SimpleType):
                if nested is not None:
                    raise self.fail(
                        _dotted(where, key or element.name), "a simple element has no fields"
                    )
                slot.scalar = Scalar(element.type)
            else:
                child_target = element.namespace or target
                slot.complex = self.complex(
                    element.type, nested, _dotted(where, key or element.name), child_target
                )
        if wildcards:
            key, _ = chosen.get(ANY, (None, None))
            compiled.wildcard = WildcardSlot(wildcards[0], key, target or None)
            if key is not None:
                keys.append(key)
        if ctype.content is not None:
            compiled.particles = _particles(ctype.content, slot_of, compiled.wildcard)
        compiled.keys = frozenset(keys)
        required: list[str] = [
            a.key for a in compiled.attrs if a.key is not None and a.attribute.required
        ]
        if compiled.text_key is not None and not compiled.mixed:
            required.append(compiled.text_key)
        choices: list[Choice] = []
        if ctype.content is not None:
            _requirements(ctype.content, slot_of, compiled.wildcard, True, required, choices)
        compiled.required = tuple(required)
        compiled.choices = tuple(choices)
        always = {id(e) for e in _always(ctype.content)} if ctype.content is not None else set()
        missing = [
            name
            for name, (kind, declaration) in names.items()
            if name not in chosen
            and (
                (kind == "attribute" and declaration.required)
                or kind == "text"
                or (kind == "element" and id(declaration) in always)
                or (kind == "any" and declaration.min_occurs > 0)
            )
        ]
        if missing:
            raise self.fail(
                _dotted(where, missing[0]), "required by the contract but not in the spec"
            )

    def _chosen(
        self,
        names: dict[str, tuple[str, Any]],
        fields: tuple[FieldSpec, ...] | None,
        where: str,
    ) -> dict[str, tuple[str, tuple[FieldSpec, ...] | None]]:
        """XSD name -> (JSON key, the spec's nested fields) for the names the spec maps."""
        if fields is None:
            return {name: (name, None) for name in names}
        chosen: dict[str, tuple[str, tuple[FieldSpec, ...] | None]] = {}
        seen: set[str] = set()
        for field in fields:
            key = field.names[0]
            here = _dotted(where, key)
            path = field.path.strip()
            if "/" in path:
                raise self.fail(here, f"{path!r}: one XSD name per level (nest `fields:` instead)")
            if path not in names:
                known = ", ".join(names) or "none"
                raise self.fail(here, f"{path!r} is not in the contract here (it has: {known})")
            if key in seen:
                raise self.fail(here, "the JSON name is used twice")
            if path in chosen:
                raise self.fail(here, f"{path!r} is mapped twice")
            seen.add(key)
            chosen[path] = (key, field.fields)
        return chosen


def _dotted(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _elements(group: Group, within: Occurs = 1) -> Iterator[tuple[Element, Occurs]]:
    """Each element particle of a model group, in order, with how often its enclosing groups
    may repeat (the product of their maxOccurs; None: unbounded): a JSON array unless 1 both."""
    within = None if within is None or group.max_occurs is None else within * group.max_occurs
    for particle in group.particles:
        if isinstance(particle, Element):
            yield particle, within
        elif isinstance(particle, Group):
            yield from _elements(particle, within)


def _wildcards(group: Group) -> Iterator[Wildcard]:
    for particle in group.particles:
        if isinstance(particle, Wildcard):
            yield particle
        elif isinstance(particle, Group):
            yield from _wildcards(particle)


def _particles(group: Group, slot_of: dict[int, Slot], wildcard: WildcardSlot | None) -> Particles:
    children: list[Slot | WildcardSlot | Particles] = []
    for particle in group.particles:
        if isinstance(particle, Element):
            children.append(slot_of[id(particle)])
        elif isinstance(particle, Group):
            children.append(_particles(particle, slot_of, wildcard))
        elif wildcard is not None:
            children.append(wildcard)
    return Particles(group, children)


def _keys(
    group: Group | Element | Wildcard, slot_of: dict[int, Slot], wildcard: WildcardSlot | None
) -> list[str]:
    if isinstance(group, Element):
        key = slot_of[id(group)].key
        return [key] if key is not None else []
    if isinstance(group, Wildcard):
        return [wildcard.key] if wildcard is not None and wildcard.key is not None else []
    found: list[str] = []
    for particle in group.particles:
        found += [k for k in _keys(particle, slot_of, wildcard) if k not in found]
    return found


def _emptiable(particle: Group | Element | Wildcard) -> bool:
    if particle.min_occurs == 0:
        return True
    if isinstance(particle, Element | Wildcard):
        return False
    if particle.kind == "choice":
        return any(_emptiable(p) for p in particle.particles)
    return all(_emptiable(p) for p in particle.particles)


def _requirements(
    group: Group,
    slot_of: dict[int, Slot],
    wildcard: WildcardSlot | None,
    required_here: bool,
    required: list[str],
    choices: list[Choice],
) -> None:
    """The keys a JSON object must have, and its single choices, from one model group: only
    where the group occurs once (a repeated group's rounds are the validator's to count)."""
    if group.max_occurs != 1:
        return
    required_here = required_here and group.min_occurs >= 1
    if group.kind == "choice":
        branches = [_keys(p, slot_of, wildcard) for p in group.particles]
        branches = [branch for branch in branches if branch]
        if len(branches) > 1:
            empty = any(_emptiable(p) for p in group.particles)
            choices.append(Choice(branches, required_here and not empty))
        return
    for particle in group.particles:
        if isinstance(particle, Element):
            key = slot_of[id(particle)].key
            if required_here and particle.min_occurs >= 1 and key is not None:
                required.append(key)
        elif isinstance(particle, Group):
            _requirements(particle, slot_of, wildcard, required_here, required, choices)


def _always(group: Group, required_here: bool = True) -> Iterator[Element]:
    """The element particles every valid instance has: not optional, not a choice's branch."""
    if group.kind == "choice" or not required_here or group.min_occurs == 0:
        return
    for particle in group.particles:
        if isinstance(particle, Element) and particle.min_occurs > 0:
            yield particle
        elif isinstance(particle, Group):
            yield from _always(particle)


# -- the codec ---------------------------------------------------------------------------------


class MessageCodec:
    """JSON <-> XML for one message, compiled once (see the module docstring for the form)."""

    def __init__(
        self,
        root: Element,
        body: Complex,
        *,
        wrapped: bool,
        validator: ContractSchema | None,
        name: str,
        tags: tuple[str, str],
    ) -> None:
        self.root = root
        self.wrapped = wrapped
        self.name = name
        self._body = body
        self._open, self._close = tags
        self._validator = validator
        self._schema: dict[str, Any] | None = None
        self._refs = ""

    def write(self, data: Any) -> Any:
        """The message's JSON -> its XML element (the SOAP Body's child), validated against the
        contract when the codec has a validator. MappingError names the JSON field."""
        out = [self._open]
        if data is None and self.root.nillable:
            out.append(NIL)
        else:
            try:
                self._body.write_into(data, out)
            except MappingError as exc:
                raise MappingError(exc.path or "(message)", exc.expected, exc.got) from None
            out.append(self._close)
        # Text we wrote ourselves, escaped as we went: parsed to the tree the validator checks.
        element = xml.parse("".join(out).encode("utf-8"))
        if self._validator is not None:
            violation = self._validator.violation(element)
            if violation is not None:
                reason = violation.short_reason
                raise MappingError(
                    json_field(self._body, element, violation),
                    f"a value the contract accepts ({reason[:1].lower()}{reason[1:]})",
                )
        return element

    def read(self, element: Any) -> Any:
        """The message's XML element -> its JSON. MappingError when an element or attribute is
        not where the contract declares it, or a value is not of its type."""
        if element.tag != self.root.clark:
            raise MappingError("(message)", f"the element {self.root.clark}", str(element.tag))
        if element.get(XSI_NIL) in ("true", "1") and self.root.nillable:
            return None
        return self._body.read_from(element)

    def json_schema(self, refs: str = "#/$defs/") -> dict[str, Any]:
        """The JSON Schema (2020-12) of the JSON form, with every facet of the contract.
        A recursive type is a `$defs` entry referenced as `<refs><name>`: a document that
        embeds the schema (OpenAPI's components) passes where it will put the `$defs`."""
        if self._schema is None or self._refs != refs:
            self._schema = json_schema_of(self._body, nillable=self.root.nillable, refs=refs)
            self._refs = refs
        return self._schema


def compile_codec(
    root: Element,
    spec: MessageSpec | None = None,
    *,
    wrapped: bool,
    validator: ContractSchema | None = None,
) -> MessageCodec:
    """The codec of the message whose Body child is `root`, named by `spec` (identity names
    without one). ConfigurationError when the spec does not fit the tree, naming the field."""
    name = spec.name if spec is not None else root.clark
    compiler = _Compiler(name)
    if spec is not None and (spec.element, spec.namespace or None) != (root.name, root.namespace):
        raise ConfigurationError(
            f"mapping spec {name}: it maps {{{spec.namespace}}}{spec.element}, "
            f"the contract's message is {root.clark}"
        )
    fields = spec.fields if spec is not None else None
    target = root.namespace or ""
    qname = compiler.qname(root.namespace, root.name)
    if isinstance(root.type, SimpleType):
        ctype = ComplexType(name=None, simple=root.type)
        body = compiler.complex(ctype, fields, "", target)
    else:
        body = compiler.complex(root.type, fields, "", target)
    tags = (f"<{qname}{compiler.declarations()}", f"</{qname}>")
    return MessageCodec(root, body, wrapped=wrapped, validator=validator, name=name, tags=tags)


def json_field(body: Complex, root: Any, violation: Violation) -> str:
    """The JSON path of the field a validator's violation names (`line[1].price.@currency`)."""
    node = violation.node
    if node is None:
        return "(message)"
    chain = []
    while node is not None and node is not root:
        chain.append(node)
        node = node.getparent()
    path = ""
    compiled: Complex | None = body
    for node in reversed(chain):
        if compiled is None:
            break
        slot = compiled.slots_by_clark.get(node.tag)
        if slot is None or slot.key is None:
            wildcard = compiled.wildcard
            path = _dotted(path, (wildcard.key if wildcard else None) or ANY)
            compiled = None
            break
        step = slot.key
        if slot.array:
            same = [s for s in node.getparent() if s.tag == node.tag]
            step += f"[{same.index(node)}]"
        path = _dotted(path, step)
        compiled = slot.complex
    field = violation.field or ""
    depth = len(chain) + 1
    steps = field.split("/")
    if compiled is not None and len(steps) > depth:
        path = _dotted(path, _key_of(compiled, steps[depth]))
    elif compiled is not None and compiled.text_key is not None and len(steps) == depth:
        path = _dotted(path, compiled.text_key)  # the element's text is what was refused
    elif (
        compiled is not None
        and len(steps) == depth
        and chain
        and steps[-1] != (etree.QName(chain[0]).localname)
    ):
        # libxml2 named the element that should have stood here: the parent's field
        parent = _parent_path(path)
        owner = _owner(body, chain[1:]) if len(chain) > 1 else body
        path = _dotted(parent, _key_of(owner, steps[-1])) if owner is not None else path
    return path or "(message)"


def _key_of(compiled: Complex, step: str) -> str:
    if step.startswith("@"):
        for attr in compiled.attrs:
            if attr.attribute.name == step[1:] and attr.key is not None:
                return attr.key
        return step
    for slot in compiled.slots:
        if slot.element.name == step and slot.key is not None:
            return slot.key
    return step


def _parent_path(path: str) -> str:
    return path.rpartition(".")[0]


def _owner(body: Complex, ancestors: list[Any]) -> Complex | None:
    compiled: Complex | None = body
    for node in reversed(ancestors):
        if compiled is None:
            return None
        slot = compiled.slots_by_clark.get(node.tag)
        compiled = slot.complex if slot is not None else None
    return compiled


# -- the spec an import writes -------------------------------------------------------------------

_SPEC_BUDGET = 5000  # fields written out in full; beyond, a complex child keeps its XSD names


def default_spec(root: Element, *, wrapped: bool, description: str) -> dict[str, Any]:
    """The mapping spec `bridge contract import` writes for a message: every name as the XSD
    has it, nested `fields:` for complex children (a recursive type, or one past a size budget,
    is named without `fields`: it keeps its XSD names below). `wrapped` is noted for the reader
    of the file; the JSON form is the same."""
    budget = [_SPEC_BUDGET]
    if isinstance(root.type, ComplexType):
        fields = _spec_fields(root.type, [], budget)
    else:
        fields = {TEXT: TEXT}
    return {
        "element": root.name,
        "namespace": root.namespace or "",
        "model": "json",
        "description": description or ("wrapped message" if wrapped else "message"),
        "fields": fields,
    }


def _spec_fields(ctype: ComplexType, stack: list[int], budget: list[int]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    stack = [*stack, id(ctype)]
    for attribute in ctype.attributes:
        fields["@" + attribute.name] = "@" + attribute.name
    if ctype.simple is not None or ctype.mixed:
        fields[TEXT] = TEXT
    if ctype.content is None:
        return fields
    for element, _ in _elements(ctype.content):
        budget[0] -= 1
        child = element.type
        if (
            isinstance(child, ComplexType)
            and id(child) not in stack
            and budget[0] > 0
            and (child.attributes or child.simple is not None or child.content is not None)
        ):
            fields[element.name] = {
                "path": element.name,
                "fields": _spec_fields(child, stack, budget),
            }
        else:
            fields[element.name] = element.name
    if any(True for _ in _wildcards(ctype.content)):
        fields[ANY] = ANY
    return fields
