"""The one contract validator: does an XML element fit its contract's schema, and if not, which
field is wrong and why.

Every place that checks a message against a contract uses it: the SOAP doors (what a partner
sent), the REST door (a JSON request written as the contract's XML, `conformance.py`) and the
upstream clients (a message before it is sent, `bridge.upstream.soap`). A refusal names the field
as the contract's XML has it (``TransferFunds/Dbtr/Acct/IBAN``, ``TransferFunds/Amt/@Ccy``) and
gives libxml2's reason without Clark-notation namespaces; each caller turns that into its own
wording (an element path for SOAP, a canonical path for REST).

lxml keeps a schema's error log on the schema object, so two threads validating at once could
read each other's errors. Each thread therefore validates with a compiled schema of its own,
built on its first message from the same documents (`build`). One schema behind a lock was the
earlier answer, but libxml2 validates without the GIL: a thread that finished validating then
waited for the GIL while holding the lock, and under eight concurrent requests the other
threads queued behind it (bench/banking.py's profile). A schema given without `build` is
shared under a lock, as before.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

# A namespace in Clark notation ({urn:bridge:banking:v1}Amt), not a pattern's {2} or a set {'A'}.
_CLARK = re.compile(r"\{[^{}\s']*:[^{}\s']*\}")
_SUBJECT = re.compile(r"^Element '(?P<element>[^']+)'(?:, attribute '(?P<attribute>[^']+)')?: ")
_EXPECTED_ONE = re.compile(r"Expected is \( (?P<name>[^ ,]+) \)")
_MISSING_ATTRIBUTE = re.compile(r"The attribute '(?P<name>[^']+)' is required but missing")
_STEP = re.compile(r"^(?P<name>[^\[]+)(?:\[(?P<index>\d+)\])?$")
_FACET = re.compile(r"\[facet '[^']*'\] ")


@dataclass(frozen=True, slots=True)
class Violation:
    """The first thing wrong with a message: `field`, the element path from the validated
    element (with ``/@attr`` for an attribute; None when libxml2 names no node), and `reason`.
    `node` is the element libxml2 named, for callers that name fields by position (the generic
    codec's JSON paths, `lines[1].sku`)."""

    field: str | None
    reason: str
    node: Any = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def element(self) -> str | None:
        """The field's element path, without an attribute step."""
        return None if self.field is None else self.field.split("/@")[0]

    @property
    def short_reason(self) -> str:
        """The reason without libxml2's subject and facet prefixes, for one-line messages."""
        return _FACET.sub("", _SUBJECT.sub("", self.reason)).rstrip(".")


class ContractSchema:
    """One contract schema, safe to share between threads: `schema` compiled, and `build`
    compiling it again, for each further thread that validates (see above)."""

    def __init__(self, schema: Any, build: Callable[[], Any] | None = None) -> None:
        self._schema = schema
        self._build = build
        self._lock = threading.Lock()
        self._given = False  # whether a thread has `schema` as its own
        self._local = threading.local()

    def violation(self, element: Any) -> Violation | None:
        """None if `element` fits the schema, else the first `Violation`."""
        if self._build is None:
            with self._lock:
                errors = _errors(self._schema, element)
        else:
            errors = _errors(self._own(), element)
        if errors is None:
            return None
        if not errors:
            return Violation(None, "the message does not match the contract")
        return _violation(element, errors[0].message, errors[0].path)

    def _own(self) -> Any:
        """This thread's compiled schema: the first thread takes `schema`, the others build."""
        schema = getattr(self._local, "schema", None)
        if schema is None:
            with self._lock:
                first, self._given = not self._given, True
            assert self._build is not None
            schema = self._schema if first else self._build()
            self._local.schema = schema
        return schema


def _errors(schema: Any, element: Any) -> list[Any] | None:
    """None if `element` is valid, else the errors libxml2 logged (read before anyone else
    validates with `schema`)."""
    if schema.validate(element):
        return None
    return list(schema.error_log)


def _violation(root: Any, message: str, path: str | None) -> Violation:
    node = _locate(root, path or "")
    field = _element_path(root, node) if node is not None else None
    subject = _SUBJECT.match(message)
    if subject is not None and field is not None:
        if subject["attribute"]:
            field += f"/@{subject['attribute']}"
        elif missing := _MISSING_ATTRIBUTE.search(message):
            field += f"/@{missing['name']}"
        elif expected := _EXPECTED_ONE.search(message):
            name = etree.QName(expected["name"]).localname
            if "Missing child element" in message:
                field += f"/{name}"
            elif node is not root and not _has_child(node.getparent(), expected["name"]):
                field = f"{field.rpartition('/')[0]}/{name}"  # the element that should be here
    reason = _CLARK.sub("", message)
    if node is not None and etree.QName(node).namespace != etree.QName(root).namespace:
        namespace = etree.QName(node).namespace or "no namespace"
        reason += f" (it is in {namespace}, not in {etree.QName(root).namespace})"
    return Violation(field, reason, node)


def _has_child(parent: Any, tag: str) -> bool:
    return any(child.tag == tag for child in parent)


def _locate(root: Any, path: str) -> Any:
    """The element at libxml2's node path (``/*/*[4]/*[2]/*``) below the validated element."""
    steps = path.strip("/").split("/")[1:] if path.startswith("/") else []
    node = root
    for step in steps:
        match = _STEP.match(step)
        if match is None:
            return None
        name, index = match["name"], int(match["index"] or 1)
        local = name.rpartition(":")[2]
        elements = [child for child in node if isinstance(child.tag, str)]
        if name != "*":  # a named step counts only siblings of that name
            elements = [child for child in elements if etree.QName(child).localname == local]
        if len(elements) < index:
            return None
        node = elements[index - 1]
    return node


def _element_path(root: Any, node: Any) -> str:
    names = []
    while node is not None:
        names.append(etree.QName(node).localname)
        if node is root:
            break
        node = node.getparent()
    return "/".join(reversed(names))
