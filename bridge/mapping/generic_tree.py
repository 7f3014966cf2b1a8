"""The compiled form of a complex type for the generic codec (`bridge.mapping.generic`).

A `Complex` holds, for one complex type under one mapping spec, its attributes, its text, its
element slots by tag (for reading) and the tree of its model groups (for writing, in the
contract's order), with the JSON keys it allows and requires. Writing appends escaped XML text
to a list, the way `bridge.mapping.writer` does; reading walks the element's children once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from lxml import etree

from bridge.domain.errors import BridgeError, MappingError
from bridge.mapping import xml
from bridge.mapping.generic_values import XML_SPACE, Scalar
from bridge.mapping.scalars import Invalid, escape
from bridge.mapping.xsdtree import ComplexType, Element, Group, Occurs, Wildcard

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL = f"{{{XSI}}}nil"
TEXT = "#text"
ANY = "##any"
NIL = ' xsi:nil="true"/>'
_MISSING = object()


class _Keyed:
    """A particle written from one key of the JSON object: `key`, None when the spec leaves
    it out. `emit` writes what the object holds under it, if anything (False: nothing)."""

    __slots__ = ()
    key: str | None

    def emit(
        self, obj: dict[str, Any], out: list[str], cursors: dict[str, int], once: bool
    ) -> bool:
        key = self.key
        if key is None:
            return False
        value = obj.get(key, _MISSING)
        if value is _MISSING:
            return False
        return self._emit_value(key, value, out, cursors, once)

    def _emit_value(
        self, key: str, value: Any, out: list[str], cursors: dict[str, int], once: bool
    ) -> bool:
        raise NotImplementedError


class Slot(_Keyed):
    """One element particle of a complex type: its JSON `key` (None: left out by the spec),
    the codec of its value, and whether it is a JSON array."""

    __slots__ = (
        "array",
        "clark",
        "close_tag",
        "complex",
        "element",
        "key",
        "max_items",
        "min_items",
        "open_tag",
        "own_max",
        "scalar",
    )

    def __init__(self, element: Element, key: str | None, within: Occurs, qname: str) -> None:
        self.element = element
        self.clark = element.clark
        self.open_tag = f"<{qname}"
        self.close_tag = f"</{qname}>"
        self.key = key
        self.array = within != 1 or element.max_occurs != 1
        self.own_max = element.max_occurs
        # a repeated group's rounds may leave an element out: only its own minimum counts
        self.min_items = element.min_occurs if within == 1 else 0
        self.max_items = (
            None if within is None or element.max_occurs is None else within * element.max_occurs
        )
        self.scalar: Scalar | None = None
        self.complex: Complex | None = None

    # writing

    def _emit_value(
        self, key: str, value: Any, out: list[str], cursors: dict[str, int], once: bool
    ) -> bool:
        if not self.array:  # outside a repeated group: reached once per object
            self.write_one(value, out, key)
            return True
        per_round = self.own_max if once else None
        return _emit_items(key, value, "an array", cursors, per_round, out, self.write_one)

    def write_one(self, value: Any, out: list[str], path: str) -> None:
        if value is None:
            if not self.element.nillable:
                raise MappingError(path, "a value (null is not allowed here)", "null")
            out += (self.open_tag, NIL)
            return
        if self.scalar is not None:
            out += (self.open_tag, ">", _text(self.scalar, value, path), self.close_tag)
            return
        assert self.complex is not None
        out.append(self.open_tag)
        try:
            self.complex.write_into(value, out)
        except MappingError as exc:
            raise _under(exc, path) from None
        out.append(self.close_tag)

    # reading

    def read_one(self, child: Any, path: str) -> Any:
        if child.get(XSI_NIL) in ("true", "1"):
            if not self.element.nillable:
                raise MappingError(path, "a value (the contract does not allow nil here)", "nil")
            return None
        if self.scalar is not None:
            if len(child):
                raise MappingError(path, "text only, no child elements")
            try:
                return self.scalar.read(child.text)
            except Invalid as exc:
                raise MappingError(path, exc.expected, exc.got) from None
        assert self.complex is not None
        try:
            return self.complex.read_from(child)
        except MappingError as exc:
            raise _under(exc, path) from None


class WildcardSlot(_Keyed):
    """`xs:any`: elements outside the declared ones, as XML strings under "##any"."""

    __slots__ = ("key", "namespace", "target", "wildcard")

    def __init__(self, wildcard: Wildcard, key: str | None, target: str | None) -> None:
        self.wildcard = wildcard
        self.key = key
        self.namespace = wildcard.namespace
        self.target = target

    def accepts(self, namespace: str | None) -> bool:
        allowed = self.namespace.split()
        if "##any" in allowed:
            return True
        if "##other" in allowed:
            return namespace is not None and namespace != self.target
        return (
            ("##local" in allowed and namespace is None)
            or ("##targetNamespace" in allowed and namespace == self.target)
            or (namespace in allowed)
        )

    def _emit_value(
        self, key: str, value: Any, out: list[str], cursors: dict[str, int], once: bool
    ) -> bool:
        # In a round of a repeated group a bounded wildcard takes one element; else all left.
        per_round = 1 if once and self.wildcard.max_occurs is not None else None
        return _emit_items(
            key, value, "an array of XML strings", cursors, per_round, out, _write_element
        )


class Particles:
    """A model group, compiled: `emit` writes its particles in the contract's order."""

    __slots__ = ("children", "kind", "max", "repeated")

    def __init__(self, group: Group, children: list[Slot | WildcardSlot | Particles]) -> None:
        self.kind = group.kind
        self.max = group.max_occurs
        self.repeated = group.max_occurs != 1
        self.children = children

    def emit(
        self, obj: dict[str, Any], out: list[str], cursors: dict[str, int], once: bool
    ) -> bool:
        if not self.repeated:
            return self._once(obj, out, cursors, once)
        # A repeating group takes one item of each array per round, in the contract's order.
        rounds = 0
        while (self.max is None or rounds < self.max) and self._once(obj, out, cursors, True):
            rounds += 1
        return rounds > 0

    def _once(
        self, obj: dict[str, Any], out: list[str], cursors: dict[str, int], once: bool
    ) -> bool:
        if self.kind == "choice":
            return any(child.emit(obj, out, cursors, once) for child in self.children)
        emitted = False
        for child in self.children:
            emitted = child.emit(obj, out, cursors, once) or emitted
        return emitted


class Choice:
    """A choice that occurs at most once: the JSON keys of each branch, to check that at most
    one branch is given (and one is, when the choice is required and no branch may be empty)."""

    __slots__ = ("branches", "required")

    def __init__(self, branches: list[list[str]], required: bool) -> None:
        self.branches = branches
        self.required = required

    def check(self, obj: dict[str, Any]) -> None:
        given = [branch for branch in self.branches if any(key in obj for key in branch)]
        if len(given) > 1:
            raise MappingError(given[1][0], f"only one of {_either(self.branches)}")
        if not given and self.required:
            raise MappingError(self.branches[0][0], f"one of {_either(self.branches)}", "nothing")


class Attr:
    __slots__ = ("attribute", "clark", "key", "lead", "scalar")

    def __init__(self, attribute: Any, key: str | None, qname: str) -> None:
        self.attribute = attribute
        self.key = key
        self.clark = (
            f"{{{attribute.namespace}}}{attribute.name}" if attribute.namespace else attribute.name
        )
        self.lead = f' {qname}="'
        self.scalar = Scalar(attribute.type)


class Complex:
    """A complex type compiled for one mapping: attributes, text, element slots by tag, the
    model group tree, the JSON keys allowed and required."""

    __slots__ = (
        "attrs",
        "attrs_by_clark",
        "choices",
        "ctype",
        "keys",
        "mixed",
        "particles",
        "required",
        "slots",
        "slots_by_clark",
        "text",
        "text_key",
        "wildcard",
    )

    def __init__(self, ctype: ComplexType) -> None:
        self.ctype = ctype
        self.attrs: list[Attr] = []
        self.attrs_by_clark: dict[str, Attr] = {}
        self.text: Scalar | None = None
        self.text_key: str | None = None
        self.mixed = False  # text between child elements: optional, read as one string
        self.particles: Particles | None = None
        self.slots: list[Slot] = []
        self.slots_by_clark: dict[str, Slot] = {}
        self.wildcard: WildcardSlot | None = None
        self.keys: frozenset[str] = frozenset()
        self.required: tuple[str, ...] = ()
        self.choices: tuple[Choice, ...] = ()

    def write_into(self, obj: Any, out: list[str]) -> None:
        """Append this object's attributes (its open tag is already out), then `>`, its text
        and its child elements."""
        if not isinstance(obj, dict):
            expected = f'an object (the text as "{self.text_key}")' if self.text else "an object"
            raise MappingError("", expected, _shown(obj))
        if not self.keys.issuperset(obj):
            unknown = sorted(str(key) for key in obj if key not in self.keys)[0]
            known = ", ".join(sorted(self.keys)) or "none"
            raise MappingError(unknown, f"a field of this object (fields: {known})")
        for key in self.required:
            if key not in obj:
                raise MappingError(key, "a value", "nothing")
        for choice in self.choices:
            choice.check(obj)
        for attr in self.attrs:
            if attr.key is None:
                continue
            value = obj.get(attr.key)
            if value is None:
                if attr.key in obj:
                    raise MappingError(attr.key, "a value (null is not allowed here)", "null")
                continue
            text = _text(attr.scalar, value, attr.key)
            if "\t" in text or "\n" in text:  # a parser would turn them into spaces
                text = text.replace("\t", "&#9;").replace("\n", "&#10;")
            out += (attr.lead, text, '"')
        out.append(">")
        if self.text is not None:
            assert self.text_key is not None
            content = obj.get(self.text_key) if self.mixed else obj[self.text_key]
            if content is None and not self.mixed:  # "" is the empty text; null is no value
                raise MappingError(self.text_key, "a value (null is not allowed here)", "null")
            if content is not None:
                out.append(_text(self.text, content, self.text_key))
        if self.particles is not None:
            self.particles.emit(obj, out, {}, False)

    def read_from(self, element: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in element.attrib.items():
            attr = self.attrs_by_clark.get(name)
            if attr is None:
                if name.startswith(f"{{{XSI}}}"):
                    continue
                raise MappingError(f"@{etree.QName(name).localname}", "no such attribute here")
            if attr.key is not None:
                try:
                    found[attr.key] = attr.scalar.read(value)
                except Invalid as exc:
                    raise MappingError(attr.key, exc.expected, exc.got) from None
        if self.mixed:
            assert self.text_key is not None
            text = "".join([element.text or "", *(child.tail or "" for child in element)])
            if text.strip(XML_SPACE):
                found[self.text_key] = text
        elif self.text is not None:
            assert self.text_key is not None
            try:
                found[self.text_key] = self.text.read(element.text)
            except Invalid as exc:
                raise MappingError(self.text_key, exc.expected, exc.got) from None
        elif element.text and element.text.strip(XML_SPACE) and not self.ctype.mixed:
            raise MappingError(TEXT, "no text here (elements only)", element.text.strip()[:40])
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            slot = self.slots_by_clark.get(tag)
            if slot is None:
                wildcard = self.wildcard
                if wildcard is not None and wildcard.accepts(etree.QName(tag).namespace):
                    if wildcard.key is not None:
                        found.setdefault(wildcard.key, []).append(_xml_string(child))
                    continue
                raise MappingError(
                    etree.QName(tag).localname, "an element the contract declares here", tag
                )
            key = slot.key
            if key is None:
                continue
            if slot.array:
                items = found.setdefault(key, [])
                items.append(slot.read_one(child, f"{key}[{len(items)}]"))
            elif key in found:
                raise MappingError(key, "at most one such element")
            else:
                found[key] = slot.read_one(child, key)
        return found


def _emit_items(
    key: str,
    value: Any,
    expected: str,
    cursors: dict[str, int],
    per_round: int | None,
    out: list[str],
    write: Callable[[Any, list[str], str], None],
) -> bool:
    """Write the items of the JSON array `value` from where `cursors[key]` left off: all the
    rest, or at most `per_round` of them (one round of a repeated group); False when none was
    left."""
    if not isinstance(value, list):
        raise MappingError(key, expected, _shown(value))
    start = cursors.get(key, 0)
    if start >= len(value):
        return False
    end = len(value) if per_round is None else min(len(value), start + per_round)
    for index in range(start, end):
        write(value[index], out, f"{key}[{index}]")
    cursors[key] = end
    return True


def _write_element(text: Any, out: list[str], path: str) -> None:
    """One item of an `xs:any` array: an XML element as a string, parsed (hardened) and
    written back as XML text."""
    if not isinstance(text, str):
        raise MappingError(path, "an XML element as a string", _shown(text))
    try:
        parsed = xml.parse(text.encode("utf-8"))
    except BridgeError as exc:
        raise MappingError(path, f"one XML element ({exc.detail})") from None
    out.append(etree.tostring(parsed, encoding="unicode"))


def _xml_string(element: Any) -> str:
    """An element as XML text with the namespace declarations it uses, not all in scope."""
    alone = copy.deepcopy(element)
    alone.tail = None
    etree.cleanup_namespaces(alone)
    return etree.tostring(alone, encoding="unicode")


def _text(scalar: Scalar, value: Any, path: str) -> str:
    """A value as escaped XML text; refused when of the wrong type or form, or when XML 1.0
    cannot carry one of its characters (NUL, a control character, a lone surrogate)."""
    try:
        return escape(scalar.write(value))
    except Invalid as exc:
        raise MappingError(path, exc.expected, exc.got) from None


def _under(exc: MappingError, prefix: str) -> MappingError:
    return MappingError(f"{prefix}.{exc.path}" if exc.path else prefix, exc.expected, exc.got)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return str(value)[:80]


def _either(branches: list[list[str]]) -> str:
    return " or ".join("+".join(branch) if len(branch) > 1 else branch[0] for branch in branches)
