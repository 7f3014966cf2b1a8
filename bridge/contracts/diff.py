"""What changed between two versions of a contract, and whom each change breaks.

`diff_contracts(old, new)` compares the served bindings of two `Contract`s: the operations,
their style, SOAP version and SOAPAction, and, element by element, the trees of every input,
output and fault message (`bridge.contracts.messages.body_element` gives each root). Partners
run it in CI (`bridge contract diff OLD.wsdl NEW.wsdl --fail-on breaking`) before a new WSDL
reaches them, so every change is judged for both ends of the wire, never as "changed" alone.

A message has a side that sends it and a side that receives it: the client sends the input
(and its SOAP headers) and the server receives it; the server sends the output and the
faults and the client receives them. A change that narrows what the contract allows breaks
the sender (what it sends today is refused); one that widens it can surprise the receiver
(it gets what it has never seen). *strict* marks what breaks only a receiver that validates
against the old contract or refuses what it does not know (a new enumeration value, a new
optional element); a lax receiver ignores it. maxOccurs crossing 1 turns a JSON value into an
array or back, so on the bridge's REST door it breaks both sides whatever the XML says.

Changes inside a message (`sender` and `receiver` as above):

| Change                   | Sender   | Receiver | Why                                          |
|--------------------------|----------|----------|----------------------------------------------|
| element-removed          | breaking | breaking | refused when sent; missing when read         |
| element-added-optional   | none     | strict   | unknown to a strict receiver                 |
| element-added-required   | breaking | strict   | old senders leave it out                     |
| element-required         | breaking | none     | minOccurs 0 -> 1 or more                     |
| element-optional         | none     | breaking | minOccurs became 0: it may be missing        |
| min-occurs-raised        | breaking | none     | fewer occurrences are refused                |
| min-occurs-lowered       | none     | strict   | fewer occurrences than a strict reader wants |
| max-occurs-lowered       | breaking | none     | more occurrences are refused                 |
| max-occurs-raised        | none     | strict   | more occurrences than a strict reader wants  |
| nillable-removed         | breaking | none     | xsi:nil (JSON null) is refused               |
| nillable-added           | none     | breaking | xsi:nil (JSON null) may arrive               |
| type-narrowed            | breaking | none     | a facet tightened, or a narrower built-in    |
| type-widened             | none     | strict   | a facet relaxed, or a wider built-in         |
| type-changed             | breaking | breaking | neither narrower nor wider (a new pattern)   |
| enum-value-removed       | breaking | none     | the value is refused                         |
| enum-value-added         | none     | strict   | a value a strict receiver does not know      |
| attribute-removed        | breaking | breaking | refused when sent; missing when read         |
| attribute-added-optional | none     | strict   | unknown to a strict receiver                 |
| attribute-added-required | breaking | strict   | old senders leave it out                     |
| attribute-required       | breaking | none     | old senders may leave it out                 |
| attribute-optional       | none     | breaking | it may be missing                            |
| wildcard-removed         | breaking | none     | extra elements are refused                   |
| wildcard-added           | none     | strict   | elements nobody declared may arrive          |
| order-changed            | breaking | breaking | a sequence's children in a new order         |
| content-model-changed    | breaking | breaking | sequence, choice or all regrouped            |
| message-element-changed  | breaking | breaking | the Body carries another element             |
| maxOccurs across 1       | breaking | breaking | the JSON value becomes an array, or back     |

Changes of the contract or of an operation:

| Change                | Client   | Server   | Why                                          |
|-----------------------|----------|----------|----------------------------------------------|
| operation-removed     | breaking | none     | its calls are refused                        |
| operation-added       | none     | none     | nobody calls it yet                          |
| namespace-changed     | breaking | breaking | every element in it is another one now       |
| soap-action-changed   | breaking | breaking | servers dispatch on it                       |
| binding-style-changed | breaking | breaking | document and RPC differ on the wire          |
| soap-version-changed  | breaking | breaking | another envelope, another content type       |
| output-added          | breaking | breaking | a one-way call now answers                   |
| output-removed        | breaking | breaking | a call that answered is now one-way          |
| fault-added           | strict   | none     | a fault detail a strict client does not know |
| fault-removed         | none     | breaking | a server that still sends it is off-contract |
| header-added          | breaking | strict   | old clients do not send it                   |
| header-removed        | breaking | breaking | a header the server no longer understands    |

Renames are not guessed: a renamed element or operation is a removal and an addition.
Elements are matched by local name within their parent (a namespace that changed is one
`namespace-changed` for the contract, not one per element). A named type used in several
places is reported at each of them; a recursive type is walked once per path (the pair of
types already being compared on the way down is not entered again). Not compared: the
whiteSpace facet, default values, xsi:type derivations (`base`), port addresses.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from bridge.contracts.messages import body_element
from bridge.contracts.model import Body, Contract, Operation
from bridge.mapping.xsdtree import (
    Attribute,
    ComplexType,
    Element,
    Facets,
    Group,
    Occurs,
    SimpleType,
)

Effect = Literal["breaking", "strict", "none"]


@dataclass(frozen=True, slots=True)
class Rule:
    """How a kind of change affects the two sides: `first`/`second` are the sender and the
    receiver of the message for a change inside one, the client and the server for a change
    of the contract or an operation."""

    kind: str
    first: Effect
    second: Effect
    why: str


def _rules(table: dict[str, tuple[Effect, Effect, str]]) -> dict[str, Rule]:
    return {kind: Rule(kind, *row) for kind, row in table.items()}


# The tables of the module docstring (a test holds the two to each other).
MESSAGE_RULES = _rules(
    {
        "element-removed": ("breaking", "breaking", "refused when sent; missing when read"),
        "element-added-optional": ("none", "strict", "unknown to a strict receiver"),
        "element-added-required": ("breaking", "strict", "old senders leave it out"),
        "element-required": ("breaking", "none", "minOccurs 0 -> 1 or more"),
        "element-optional": ("none", "breaking", "minOccurs became 0: it may be missing"),
        "min-occurs-raised": ("breaking", "none", "fewer occurrences are refused"),
        "min-occurs-lowered": ("none", "strict", "fewer occurrences than a strict reader wants"),
        "max-occurs-lowered": ("breaking", "none", "more occurrences are refused"),
        "max-occurs-raised": ("none", "strict", "more occurrences than a strict reader wants"),
        "nillable-removed": ("breaking", "none", "xsi:nil (JSON null) is refused"),
        "nillable-added": ("none", "breaking", "xsi:nil (JSON null) may arrive"),
        "type-narrowed": ("breaking", "none", "a facet tightened, or a narrower built-in"),
        "type-widened": ("none", "strict", "a facet relaxed, or a wider built-in"),
        "type-changed": ("breaking", "breaking", "neither narrower nor wider (a new pattern)"),
        "enum-value-removed": ("breaking", "none", "the value is refused"),
        "enum-value-added": ("none", "strict", "a value a strict receiver does not know"),
        "attribute-removed": ("breaking", "breaking", "refused when sent; missing when read"),
        "attribute-added-optional": ("none", "strict", "unknown to a strict receiver"),
        "attribute-added-required": ("breaking", "strict", "old senders leave it out"),
        "attribute-required": ("breaking", "none", "old senders may leave it out"),
        "attribute-optional": ("none", "breaking", "it may be missing"),
        "wildcard-removed": ("breaking", "none", "extra elements are refused"),
        "wildcard-added": ("none", "strict", "elements nobody declared may arrive"),
        "order-changed": ("breaking", "breaking", "a sequence's children in a new order"),
        "content-model-changed": ("breaking", "breaking", "sequence, choice or all regrouped"),
        "message-element-changed": ("breaking", "breaking", "the Body carries another element"),
    }
)
ARRAY_FORM_RULE = Rule(
    "maxOccurs across 1", "breaking", "breaking", "the JSON value becomes an array, or back"
)
CONTRACT_RULES = _rules(
    {
        "operation-removed": ("breaking", "none", "its calls are refused"),
        "operation-added": ("none", "none", "nobody calls it yet"),
        "namespace-changed": ("breaking", "breaking", "every element in it is another one now"),
        "soap-action-changed": ("breaking", "breaking", "servers dispatch on it"),
        "binding-style-changed": ("breaking", "breaking", "document and RPC differ on the wire"),
        "soap-version-changed": ("breaking", "breaking", "another envelope, another content type"),
        "output-added": ("breaking", "breaking", "a one-way call now answers"),
        "output-removed": ("breaking", "breaking", "a call that answered is now one-way"),
        "fault-added": ("strict", "none", "a fault detail a strict client does not know"),
        "fault-removed": ("none", "breaking", "a server that still sends it is off-contract"),
        "header-added": ("breaking", "strict", "old clients do not send it"),
        "header-removed": ("breaking", "breaking", "a header the server no longer understands"),
    }
)


@dataclass(frozen=True, slots=True)
class Change:
    """One change, where it is and whom it breaks. `operation` is "" for a change of the
    whole contract; `message` is "input", "output", "fault:<name>", or "" for a change of the
    contract or the operation itself; "header:<name>" for a SOAP header the input declares.
    `old`/`new` are the values compared, as text (None: absent)."""

    kind: str
    operation: str
    message: str
    path: str
    detail: str
    old: str | None
    new: str | None
    client: Effect
    server: Effect

    @property
    def breaking(self) -> bool:
        return "breaking" in (self.client, self.server)

    @property
    def strict(self) -> bool:
        """Breaks at least a strict client or server."""
        return self.breaking or "strict" in (self.client, self.server)

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.operation, self.path, self.kind, self.detail, self.message)

    def as_json(self) -> dict[str, str | None]:
        return {
            "client": self.client,
            "detail": self.detail,
            "kind": self.kind,
            "message": self.message,
            "new": self.new,
            "old": self.old,
            "operation": self.operation,
            "path": self.path,
            "server": self.server,
        }


def effects(kind: str, message: str, *, array_form: bool = False) -> tuple[Effect, Effect]:
    """(client, server) for a change of `kind` in `message` ("": of the contract or the
    operation itself)."""
    if not message:
        rule = CONTRACT_RULES[kind]
        return rule.first, rule.second
    rule = ARRAY_FORM_RULE if array_form else MESSAGE_RULES[kind]
    if message == "input" or message.startswith("header:"):
        return rule.first, rule.second  # the client sends, the server receives
    return rule.second, rule.first  # the server sends, the client receives


Root = Callable[[Contract, Body], Element]
_TARGET_NAMESPACE = "wsdl:definitions/@targetNamespace"
_ELSEWHERE = ", here and wherever else"  # one change per namespace, at the first place met


def diff_contracts(old: Contract, new: Contract, *, root: Root = body_element) -> list[Change]:
    """Every change from `old` to `new`, sorted by operation, path, kind and detail.
    `root` gives the root element of a message (the default reads it from the schema)."""
    walk = _Walk()
    if old.target_namespace != new.target_namespace:
        pair = (old.target_namespace, new.target_namespace)
        walk.namespaces[pair] = _TARGET_NAMESPACE
    changes: list[Change] = []
    for name in sorted(old.operations.keys() | new.operations.keys()):
        before, after = old.operations.get(name), new.operations.get(name)
        if after is None:
            detail = "operation removed (or renamed: renames are not guessed)"
            changes.append(_change("operation-removed", name, name, detail, name, None))
        elif before is None:
            changes.append(_change("operation-added", name, name, "operation added", None, name))
        else:
            changes += _operation(walk, old, new, before, after, root)
    return sorted(changes + walk.namespace_changes(), key=Change.sort_key)


def diff_messages(
    old_root: Element, new_root: Element, *, operation: str, message: str
) -> list[Change]:
    """The changes between two versions of one message (`message`: "input", "output" or
    "fault:<name>"), given their root elements."""
    walk = _Walk()
    changes = _message(walk, old_root, new_root, operation, message)
    return sorted(changes + walk.namespace_changes(), key=Change.sort_key)


def _change(
    kind: str, operation: str, path: str, detail: str, old: str | None, new: str | None
) -> Change:
    client, server = effects(kind, "")
    return Change(kind, operation, "", path, detail, old, new, client, server)


def _operation(
    walk: _Walk, old: Contract, new: Contract, before: Operation, after: Operation, root: Root
) -> list[Change]:
    name = before.name
    changes: list[Change] = []
    for kind, what, was, now in (
        ("binding-style-changed", "style", before.style, after.style),
        ("soap-version-changed", "SOAP", before.soap_version, after.soap_version),
        ("soap-action-changed", "SOAPAction", before.soap_action, after.soap_action),
    ):
        if was != now:
            detail = f"{what} {_show(was)} -> {_show(now)}"
            changes.append(_change(kind, name, name, detail, was, now))
    changes += _message(walk, root(old, before.input), root(new, after.input), name, "input")
    if before.output is not None and after.output is not None:
        old_output, new_output = root(old, before.output), root(new, after.output)
        changes += _message(walk, old_output, new_output, name, "output")
    elif before.output is not None:
        detail = "the operation is one-way now"
        changes.append(_change("output-removed", name, f"{name}/output", detail, "output", None))
    elif after.output is not None:
        detail = "the operation answers now"
        changes.append(_change("output-added", name, f"{name}/output", detail, None, "output"))
    old_faults = {fault.name: fault.element for fault in before.faults}
    new_faults = {fault.name: fault.element for fault in after.faults}
    for fault in sorted(old_faults.keys() | new_faults.keys()):
        where = f"{name}/fault:{fault}"
        if fault not in new_faults:
            changes.append(_change("fault-removed", name, where, "fault removed", fault, None))
        elif fault not in old_faults:
            changes.append(_change("fault-added", name, where, "fault added", None, fault))
        else:
            old_detail = old.schema.element(old_faults[fault])
            new_detail = new.schema.element(new_faults[fault])
            changes += _message(walk, old_detail, new_detail, name, f"fault:{fault}")
    for header in sorted(set(before.headers) | set(after.headers)):
        message = f"header:{_local(header)}"
        where = f"{name}/{message}"
        if header not in before.headers:
            changes.append(_change("header-added", name, where, "header added", None, header))
        elif header not in after.headers:
            changes.append(_change("header-removed", name, where, "header removed", header, None))
        else:
            old_header, new_header = old.schema.element(header), new.schema.element(header)
            changes += _message(walk, old_header, new_header, name, message)
    return changes


def _message(
    walk: _Walk, old_root: Element, new_root: Element, operation: str, message: str
) -> list[Change]:
    base = f"{operation}/{message}"
    findings: list[_Finding] = []
    if old_root.name != new_root.name:
        detail = f"element {old_root.name} -> {new_root.name} (renames are not guessed)"
        findings.append(
            _Finding("message-element-changed", (), detail, old_root.name, new_root.name)
        )
    findings += walk.element(old_root, new_root, (1, 1), (1, 1), ())
    changes = []
    for found in findings:
        path = "/".join((base, *found.steps))
        if found.kind == "namespace-changed":
            walk.namespaces.setdefault((found.old, found.new), path)
            continue
        client, server = effects(found.kind, message, array_form=found.array_form)
        changes.append(
            Change(
                found.kind,
                operation,
                message,
                path,
                found.detail,
                found.old,
                found.new,
                client,
                server,
            )
        )
    return changes


@dataclass(frozen=True, slots=True)
class _Finding:
    """A change inside a message, placed relative to where its comparison began (so that
    the findings of a pair of named types can be reused wherever the pair appears)."""

    kind: str
    steps: tuple[str, ...]
    detail: str
    old: str | None = None
    new: str | None = None
    array_form: bool = False

    def under(self, at: tuple[str, ...]) -> _Finding:
        return _Finding(
            self.kind, (*at, *self.steps), self.detail, self.old, self.new, self.array_form
        )


Occurrence = tuple[int, Occurs]
Shape = str | tuple[str, tuple["Shape", ...]]


@dataclass(slots=True)
class _Child:
    element: Element
    min_occurs: int
    max_occurs: Occurs


@dataclass(slots=True)
class _Content:
    """A content model seen flat: each child element by local name with the occurrence its
    enclosing groups give it, whether it has a wildcard, and the shape of its groups."""

    children: dict[str, _Child] = field(default_factory=dict)
    wildcard: bool = False
    shape: Shape = ""


_NO_CUT = 1 << 30


@dataclass(frozen=True, slots=True)
class _Done:
    old: ComplexType
    new: ComplexType
    findings: list[_Finding]


@dataclass(slots=True)
class _Walk:
    """One comparison. `namespaces`: each namespace change met, with the first path it was
    met at. Complex type pairs are compared once when their result is whole; a pair already
    being compared further up (a recursive type) is not entered again, and what was compared
    under it is not remembered, since that result lacks the part cut off."""

    namespaces: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    # Keyed by id(), so each entry keeps its types alive: a freed id may be reused.
    _done: dict[tuple[int, int], _Done] = field(default_factory=dict)
    _stack: list[tuple[int, int]] = field(default_factory=list)
    _lowest_cut: int = _NO_CUT
    _flat: dict[int, tuple[ComplexType, _Content]] = field(default_factory=dict)

    def namespace_changes(self) -> list[Change]:
        changes = []
        for (was, now), where in self.namespaces.items():
            if where == _TARGET_NAMESPACE:
                detail = f"targetNamespace {_show(was)} -> {_show(now)}"
            elif now is None:
                detail = f"elements of {_show(was)} are unqualified now{_ELSEWHERE}"
            elif was is None:
                detail = f"unqualified elements are in {_show(now)} now{_ELSEWHERE}"
            else:
                detail = f"elements of {_show(was)} are in {_show(now)} now{_ELSEWHERE}"
            changes.append(_change("namespace-changed", "", where, detail, was, now))
        return changes

    def element(
        self, old: Element, new: Element, was: Occurrence, now: Occurrence, at: tuple[str, ...]
    ) -> list[_Finding]:
        found: list[_Finding] = []
        if old.namespace != new.namespace:
            found.append(_Finding("namespace-changed", at, "", old.namespace, new.namespace))
        found += _occurrence(was, now, at)
        if old.nillable != new.nillable:
            kind = "nillable-added" if new.nillable else "nillable-removed"
            found.append(
                _Finding(kind, at, f"nillable {_show(old.nillable)} -> {_show(new.nillable)}")
            )
        found += _fixed(old.fixed, new.fixed, at)
        found += self.type(old.type, new.type, at)
        return found

    def type(
        self, old: SimpleType | ComplexType, new: SimpleType | ComplexType, at: tuple[str, ...]
    ) -> list[_Finding]:
        if isinstance(old, SimpleType) and isinstance(new, SimpleType):
            return _simple(old, new, at)
        if isinstance(old, ComplexType) and isinstance(new, ComplexType):
            return [found.under(at) for found in self._complex_once(old, new)]
        was, now = _type_name(old), _type_name(new)
        return [_Finding("type-changed", at, f"type {was} -> {now}", was, now)]

    def _complex_once(self, old: ComplexType, new: ComplexType) -> list[_Finding]:
        pair = (id(old), id(new))
        if pair in self._done:
            return self._done[pair].findings
        if pair in self._stack:
            self._lowest_cut = min(self._lowest_cut, self._stack.index(pair))
            return []
        depth, outer_cut = len(self._stack), self._lowest_cut
        self._stack.append(pair)
        self._lowest_cut = _NO_CUT
        try:
            found = self._complex(old, new)
        finally:
            self._stack.pop()
        if self._lowest_cut >= depth:  # no cut above this pair: its result is whole
            self._done[pair] = _Done(old, new, found)
        self._lowest_cut = min(outer_cut, self._lowest_cut)
        return found

    def _complex(self, old: ComplexType, new: ComplexType) -> list[_Finding]:
        found: list[_Finding] = []
        if old.mixed != new.mixed:
            kind = "type-widened" if new.mixed else "type-narrowed"
            found.append(_Finding(kind, (), f"mixed {_show(old.mixed)} -> {_show(new.mixed)}"))
        found += self._attributes(old.attributes, new.attributes)
        if old.simple is not None and new.simple is not None:
            return found + _simple(old.simple, new.simple, ("#text",))
        if old.simple is not None or new.simple is not None:
            was, now = _content_name(old), _content_name(new)
            return [*found, _Finding("content-model-changed", (), f"{was} -> {now}", was, now)]
        return found + self._content(self._flatten(old), self._flatten(new))

    def _attributes(self, old: Sequence[Attribute], new: Sequence[Attribute]) -> list[_Finding]:
        before = {attribute.name: attribute for attribute in old}
        after = {attribute.name: attribute for attribute in new}
        found: list[_Finding] = []
        for name in sorted(before.keys() - after.keys()):
            detail = "attribute removed (or renamed: renames are not guessed)"
            found.append(_Finding("attribute-removed", (f"@{name}",), detail, name, None))
        for name in sorted(after.keys() - before.keys()):
            required = after[name].required
            kind = "attribute-added-required" if required else "attribute-added-optional"
            detail = f"{'required' if required else 'optional'} attribute added"
            found.append(_Finding(kind, (f"@{name}",), detail, None, name))
        for name in sorted(before.keys() & after.keys()):
            was, now, at = before[name], after[name], (f"@{name}",)
            if was.namespace != now.namespace:
                found.append(_Finding("namespace-changed", at, "", was.namespace, now.namespace))
            if was.required != now.required:
                kind = "attribute-required" if now.required else "attribute-optional"
                detail = f"use {_use(was.required)} -> {_use(now.required)}"
                found.append(_Finding(kind, at, detail, _use(was.required), _use(now.required)))
            found += _fixed(was.fixed, now.fixed, at)
            found += _simple(was.type, now.type, at)
        return found

    def _content(self, old: _Content, new: _Content) -> list[_Finding]:
        found: list[_Finding] = []
        for name in sorted(old.children.keys() - new.children.keys()):
            detail = "element removed (or renamed: renames are not guessed)"
            found.append(_Finding("element-removed", (name,), detail, name, None))
        for name in sorted(new.children.keys() - old.children.keys()):
            child = new.children[name]
            required = child.min_occurs > 0
            kind = "element-added-required" if required else "element-added-optional"
            detail = f"element added, {_occurs_text(child.min_occurs, child.max_occurs)}"
            found.append(_Finding(kind, (name,), detail, None, name))
        common = old.children.keys() & new.children.keys()
        for name in sorted(common):
            was, now = old.children[name], new.children[name]
            found += self.element(
                was.element,
                now.element,
                (was.min_occurs, was.max_occurs),
                (now.min_occurs, now.max_occurs),
                (name,),
            )
        if old.wildcard != new.wildcard:
            kind = "wildcard-added" if new.wildcard else "wildcard-removed"
            detail = f"xs:any {'added' if new.wildcard else 'removed'}"
            found.append(_Finding(kind, (), detail))
        was_shape, now_shape = _keep(old.shape, common), _keep(new.shape, common)
        if was_shape != now_shape:
            shown_old, shown_new = _show_shape(was_shape), _show_shape(now_shape)
            same_members = _unordered(was_shape) == _unordered(now_shape)
            kind = "order-changed" if same_members else "content-model-changed"
            detail = f"{shown_old} -> {shown_new}"
            found.append(_Finding(kind, (), detail, shown_old, shown_new))
        return found

    def _flatten(self, complex_type: ComplexType) -> _Content:
        key = id(complex_type)
        if key not in self._flat:
            content = _Content()
            if complex_type.content is not None:
                content.shape = _gather(complex_type.content, 1, 1, content)
            self._flat[key] = (complex_type, content)
        return self._flat[key][1]


def _gather(group: Group, outer_min: int, outer_max: Occurs, content: _Content) -> Shape:
    """Adds the elements of `group` to `content` with the occurrence the enclosing groups
    give them (a branch of a choice may be left out: minimum 0), and returns its shape. An
    element named twice in one content model is compared at its first declaration."""
    low = group.min_occurs * outer_min
    high = _times(group.max_occurs, outer_max)
    branch_low = 0 if group.kind == "choice" and len(group.particles) > 1 else low
    items: list[Shape] = []
    for particle in group.particles:
        if isinstance(particle, Element):
            occurs = (particle.min_occurs * branch_low, _times(particle.max_occurs, high))
            if particle.name not in content.children:
                content.children[particle.name] = _Child(particle, *occurs)
            items.append(particle.name)
        elif isinstance(particle, Group):
            items.append(_gather(particle, branch_low, high, content))
        else:
            content.wildcard = True
    return (group.kind, tuple(items))


def _keep(shape: Shape, names: Iterable[str]) -> Shape:
    """The shape with only `names` in it, in a normal form: empty groups dropped, a group of
    one item replaced by the item, a sequence in a sequence spliced into it, the members of
    a choice or an all sorted (their order means nothing)."""
    if isinstance(shape, str):
        return shape if shape in names else ""
    kind, members = shape
    items: list[Shape] = []
    for member in members:
        kept = _keep(member, names)
        if kept == "":
            continue
        if kind == "sequence" and not isinstance(kept, str) and kept[0] == "sequence":
            items += kept[1]
        else:
            items.append(kept)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if kind != "sequence":
        items.sort(key=repr)
    return (kind, tuple(items))


def _unordered(shape: Shape) -> Shape:
    if isinstance(shape, str):
        return shape
    return (shape[0], tuple(sorted((_unordered(item) for item in shape[1]), key=repr)))


_SEPARATORS = {"sequence": ", ", "choice": " | ", "all": " & "}


def _show_shape(shape: Shape) -> str:
    if isinstance(shape, str):
        return shape or "()"
    kind, members = shape
    return f"{kind}({_SEPARATORS[kind].join(_show_shape(item) for item in members)})"


def _occurrence(was: Occurrence, now: Occurrence, at: tuple[str, ...]) -> list[_Finding]:
    (old_min, old_max), (new_min, new_max) = was, now
    found: list[_Finding] = []
    if new_min != old_min:
        if new_min > old_min:
            kind = "element-required" if old_min == 0 else "min-occurs-raised"
        else:
            kind = "element-optional" if new_min == 0 else "min-occurs-lowered"
        detail = f"minOccurs {old_min} -> {new_min}"
        found.append(_Finding(kind, at, detail, str(old_min), str(new_min)))
    if new_max != old_max:
        lowered = new_max is not None and (old_max is None or new_max < old_max)
        across = (old_max == 1) != (new_max == 1)
        kind = "max-occurs-lowered" if lowered else "max-occurs-raised"
        detail = f"maxOccurs {_max_text(old_max)} -> {_max_text(new_max)}"
        if across:
            form = "an array becomes a single value" if new_max == 1 else "a value becomes an array"
            detail += f" (in JSON {form})"
        was_text, now_text = _max_text(old_max), _max_text(new_max)
        found.append(_Finding(kind, at, detail, was_text, now_text, array_form=across))
    return found


def _fixed(old: str | None, new: str | None, at: tuple[str, ...]) -> list[_Finding]:
    if old == new:
        return []
    if old is None:
        kind = "type-narrowed"
    elif new is None:
        kind = "type-widened"
    else:
        kind = "type-changed"
    return [_Finding(kind, at, f"fixed {_show(old)} -> {_show(new)}", old, new)]


# Each XSD built-in simple type and the built-in it is derived from by restriction.
_PARENT = {
    "normalizedString": "string",
    "token": "normalizedString",
    "language": "token",
    "NMTOKEN": "token",
    "Name": "token",
    "NCName": "Name",
    "ID": "NCName",
    "IDREF": "NCName",
    "ENTITY": "NCName",
    "integer": "decimal",
    "nonPositiveInteger": "integer",
    "negativeInteger": "nonPositiveInteger",
    "long": "integer",
    "int": "long",
    "short": "int",
    "byte": "short",
    "nonNegativeInteger": "integer",
    "unsignedLong": "nonNegativeInteger",
    "unsignedInt": "unsignedLong",
    "unsignedShort": "unsignedInt",
    "unsignedByte": "unsignedShort",
    "positiveInteger": "nonNegativeInteger",
}
# A date, time or g* value with no zone and a four-digit year: its text orders as its value.
_LEXICAL_TIME = re.compile(
    r"\d{4}(-\d\d(-\d\d(T\d\d:\d\d:\d\d(\.\d+)?)?)?)?|\d\d:\d\d:\d\d(\.\d+)?|--\d\d(-\d\d)?|---\d\d"
)
_TIMES = {"date", "dateTime", "time", "gYear", "gYearMonth", "gMonth", "gMonthDay", "gDay"}


def _ancestors(builtin: str) -> list[str]:
    chain = [builtin]
    while chain[-1] in _PARENT:
        chain.append(_PARENT[chain[-1]])
    return chain


_INTEGERS = {name for name in _PARENT if "integer" in _ancestors(name)} | {"integer"}
_NUMBERS = {"decimal", "float", "double", *_INTEGERS}


def _simple(old: SimpleType, new: SimpleType, at: tuple[str, ...]) -> list[_Finding]:
    was, now = _type_name(old), _type_name(new)
    changed = [_Finding("type-changed", at, f"type {was} -> {now}", was, now)]
    if (old.item is None) != (new.item is None) or bool(old.members) != bool(new.members):
        return changed
    found: list[_Finding] = []
    if old.item is not None and new.item is not None:
        found += _simple(old.item, new.item, at)
    elif old.members:
        if len(old.members) != len(new.members):
            return changed
        for old_member, new_member in zip(old.members, new.members, strict=True):
            found += _simple(old_member, new_member, at)
    elif old.builtin != new.builtin:
        if old.builtin in _ancestors(new.builtin):
            kind = "type-narrowed"
        elif new.builtin in _ancestors(old.builtin):
            kind = "type-widened"
        else:
            return changed  # unrelated types: their facets do not compare
        found.append(_Finding(kind, at, f"type {old.builtin} -> {new.builtin}", was, now))
    return found + _facets(old.facets, new.facets, new.builtin, at)


def _facets(old: Facets, new: Facets, builtin: str, at: tuple[str, ...]) -> list[_Finding]:
    found: list[_Finding] = []

    def add(kind: str, detail: str, was: object, now: object) -> None:
        found.append(_Finding(kind, at, detail, _text(was), _text(now)))

    if old.length != new.length:
        kind = "type-changed"
        if old.length is None:
            kind = "type-narrowed"
        elif new.length is None:
            kind = "type-widened"
        add(kind, f"length {_show(old.length)} -> {_show(new.length)}", old.length, new.length)
    for name, was_limit, now_limit, lower in (
        ("minLength", old.min_length, new.min_length, True),
        ("maxLength", old.max_length, new.max_length, False),
        ("totalDigits", old.total_digits, new.total_digits, False),
        ("fractionDigits", old.fraction_digits, new.fraction_digits, False),
    ):
        if was_limit != now_limit:
            tighter = _tighter(was_limit, now_limit, lower=lower)
            kind = "type-narrowed" if tighter else "type-widened"
            detail = f"{name} {_show(was_limit)} -> {_show(now_limit)}"
            add(kind, detail, was_limit, now_limit)
    found += _patterns(old.patterns, new.patterns, at)
    found += _enumeration(old.enumeration, new.enumeration, at)
    found += _range(old, new, builtin, at)
    return found


def _tighter(was: Any, now: Any, *, lower: bool) -> bool:
    """Whether the bound `now` allows less than `was` (None: no bound)."""
    if now is None:
        return False
    if was is None:
        return True
    compare = operator.gt if lower else operator.lt
    return bool(compare(now, was))


def _patterns(old: tuple[str, ...], new: tuple[str, ...], at: tuple[str, ...]) -> list[_Finding]:
    was, now = set(old), set(new)
    if was == now:
        return []
    shown_old, shown_new = " & ".join(old) or None, " & ".join(new) or None
    detail = f"pattern {_show(shown_old)} -> {_show(shown_new)}"
    if was < now:
        kind = "type-narrowed"
    elif now < was:
        kind = "type-widened"
    else:
        kind = "type-changed"  # whether one pattern allows less than another is not decided
    return [_Finding(kind, at, detail, shown_old, shown_new)]


def _enumeration(old: tuple[str, ...], new: tuple[str, ...], at: tuple[str, ...]) -> list[_Finding]:
    was, now = set(old), set(new)
    if not was and now:
        return [_Finding("type-narrowed", at, "enumeration added", None, " | ".join(new))]
    if was and not now:
        return [_Finding("type-widened", at, "enumeration removed", " | ".join(old), None)]
    removed = [
        _Finding("enum-value-removed", at, f"value {_show(value)} removed", value, None)
        for value in sorted(was - now)
    ]
    added = [
        _Finding("enum-value-added", at, f"value {_show(value)} added", None, value)
        for value in sorted(now - was)
    ]
    return removed + added


Bound = tuple[str, str] | None  # (facet name, value)


def _range(old: Facets, new: Facets, builtin: str, at: tuple[str, ...]) -> list[_Finding]:
    found: list[_Finding] = []
    for lower in (True, False):
        was, now = _bound(old, lower=lower), _bound(new, lower=lower)
        if was == now:
            continue
        detail = f"{_show_bound(was)} -> {_show_bound(now)}"
        old_text, new_text = _show_bound(was), _show_bound(now)
        if was is None or now is None:
            kind = "type-widened" if now is None else "type-narrowed"
        else:
            old_key, new_key = _bound_key(was, builtin, lower), _bound_key(now, builtin, lower)
            if old_key is not None and old_key == new_key:
                continue  # the same bound written otherwise (minExclusive 0 / minInclusive 1)
            if old_key is None or new_key is None:
                kind = "type-changed"  # values this module cannot order
            else:
                tighter = _tighter(old_key, new_key, lower=lower)
                kind = "type-narrowed" if tighter else "type-widened"
        found.append(_Finding(kind, at, detail, old_text, new_text))
    return found


def _bound(facets: Facets, *, lower: bool) -> Bound:
    if lower:
        if facets.min_inclusive is not None:
            return ("minInclusive", facets.min_inclusive)
        if facets.min_exclusive is not None:
            return ("minExclusive", facets.min_exclusive)
        return None
    if facets.max_inclusive is not None:
        return ("maxInclusive", facets.max_inclusive)
    if facets.max_exclusive is not None:
        return ("maxExclusive", facets.max_exclusive)
    return None


def _bound_key(bound: tuple[str, str], builtin: str, lower: bool) -> tuple[object, int] | None:
    """A key that orders bounds of one kind (lower or upper) by how much they allow: the
    value, then exclusive after inclusive for a lower bound (before it for an upper one);
    an exclusive bound of an integer type becomes the inclusive one next to it."""
    facet, text = bound
    exclusive = facet.endswith("Exclusive")
    value: object
    if builtin in _NUMBERS:
        number = _number(text)
        if number is None:
            return None
        if exclusive and builtin in _INTEGERS:
            return (number + 1 if lower else number - 1, 0)
        value = number
    elif builtin in _TIMES and _LEXICAL_TIME.fullmatch(text.strip()):
        value = text.strip()
    else:
        return None
    return (value, (1 if lower else -1) if exclusive else 0)


def _number(text: str) -> Decimal | None:
    special = {"INF": "Infinity", "+INF": "Infinity", "-INF": "-Infinity"}
    try:
        number = Decimal(special.get(text.strip(), text.strip()))
    except InvalidOperation:
        return None
    return None if number.is_nan() else number


def _show_bound(bound: Bound) -> str:
    return f"{bound[0]} {bound[1]}" if bound else "(no bound)"


def _times(one: Occurs, other: Occurs) -> Occurs:
    if one == 0 or other == 0:
        return 0
    if one is None or other is None:
        return None
    return one * other


def _max_text(occurs: Occurs) -> str:
    return "unbounded" if occurs is None else str(occurs)


def _occurs_text(low: int, high: Occurs) -> str:
    return f"minOccurs {low}, maxOccurs {_max_text(high)}"


def _use(required: bool) -> str:
    return "required" if required else "optional"


def _type_name(type_: SimpleType | ComplexType) -> str:
    if isinstance(type_, SimpleType):
        return _local(type_.name) if type_.name else type_.builtin
    return f"complex {_local(type_.name)}" if type_.name else "anonymous complex type"


def _content_name(complex_type: ComplexType) -> str:
    return "simple content" if complex_type.simple is not None else "element content"


def _local(clark: str | None) -> str:
    return (clark or "").rpartition("}")[2]


def _show(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
