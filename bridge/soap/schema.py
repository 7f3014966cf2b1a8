"""Validation of a request's body element against the contract schema, before any handler runs.

A refusal names the field as the partner wrote it (``TransferFunds/Dbtr/Acct/IBAN``,
``TransferFunds/Amt/@Ccy``) and gives libxml2's reason without Clark-notation namespaces, so it
fits the contract's ``ValidationFault`` (Field, Reason).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from bridge.soap.faults import InvalidField

# A namespace in Clark notation ({urn:bridge:banking:v1}Amt), not a pattern's {2} or a set {'A'}.
_CLARK = re.compile(r"\{[^{}\s']*:[^{}\s']*\}")
_SUBJECT = re.compile(r"^Element '(?P<element>[^']+)'(?:, attribute '(?P<attribute>[^']+)')?: ")
_EXPECTED_ONE = re.compile(r"Expected is \( (?P<name>[^ ,]+) \)")
_MISSING_ATTRIBUTE = re.compile(r"The attribute '(?P<name>[^']+)' is required but missing")
_STEP = re.compile(r"^(?P<name>[^\[]+)(?:\[(?P<index>\d+)\])?$")


class ContractValidator:
    """Checks body elements against one compiled contract schema.

    lxml keeps a validator's error log on the validator object, so two threads validating at
    once could read each other's errors: validation and reading the log happen under a lock
    (libxml2 validates a TransferFunds in microseconds; gunicorn's sync workers never contend)."""

    def __init__(self, schema: Any) -> None:
        self._schema = schema
        self._lock = threading.Lock()

    def check(self, element: Any) -> None:
        """Return if `element` is valid, else raise `InvalidField` for the first error."""
        with self._lock:
            if self._schema.validate(element):
                return
            errors = list(self._schema.error_log)
        if not errors:
            raise InvalidField(None, "the request does not match the contract")
        raise _invalid_field(element, errors[0].message, errors[0].path)


def _invalid_field(root: Any, message: str, path: str | None) -> InvalidField:
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
    return InvalidField(field, reason)


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
