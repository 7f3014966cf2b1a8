"""spyne models of an upstream contract, read from its schema.

A simulator's models only let spyne read a request and write an answer: the contract's own
schema has checked the request first (`bridge.sims.contract`), and the simulator serves the
checked-in WSDL, not spyne's. So a model needs no more of the contract than each complexType's
``xs:sequence``: its elements in order, how often each may occur, and the built-in type under
each simple type (a restriction's facets are the schema's business). Reading them from the
contract keeps one declaration of each message, the WSDL's.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from spyne import Boolean, ComplexModel, Date, DateTime, Decimal, Integer32, Long, Unicode

from bridge.sims.contract import NS_WSDL, NS_XS, Contract, parse_hardened

# The built-in types the upstream contracts use, as spyne reads and writes them.
BUILT_INS: dict[str, Any] = {
    "string": Unicode,
    "anyURI": Unicode,
    "int": Integer32,
    "long": Long,
    "decimal": Decimal,
    "boolean": Boolean,
    "date": Date,
    "dateTime": DateTime,
}


def contract_models(contract: Contract) -> dict[str, Any]:
    """Every named complexType of `contract`'s schema as a spyne model, by name; a type's
    fields refer to the models of the types they use."""
    (schema,) = parse_hardened(contract.wsdl).iterfind(f"{{{NS_WSDL}}}types/{{{NS_XS}}}schema")
    return _Models(schema).all()


class _Models:
    def __init__(self, schema: etree._Element) -> None:
        self.namespace = schema.get("targetNamespace", "")
        self.simple = {node.get("name", ""): node for node in _children(schema, "simpleType")}
        self.complex = {node.get("name", ""): node for node in _children(schema, "complexType")}
        self.made: dict[str, Any] = {}

    def all(self) -> dict[str, Any]:
        return {name: self.model(name) for name in self.complex}

    def model(self, name: str) -> Any:
        if name not in self.made:
            node = self.complex[name]
            fields = [
                (element.get("name", ""), self.field(element))
                for element in node.iterfind(f"{{{NS_XS}}}sequence/{{{NS_XS}}}element")
            ]
            self.made[name] = ComplexModel.produce(self.namespace, name, fields)
        return self.made[name]

    def field(self, element: etree._Element) -> Any:
        kind = self.kind(element, "type")
        min_occurs = int(element.get("minOccurs", "1"))
        max_occurs = element.get("maxOccurs", "1")
        unbounded = {} if max_occurs == "1" else {"max_occurs": "unbounded"}
        return kind.customize(min_occurs=min_occurs, nillable=False, **unbounded)

    def kind(self, node: etree._Element, attribute: str) -> Any:
        """The spyne type `node`'s `attribute` names (``tns:Amount``, ``xs:date``)."""
        prefix, _, local = node.get(attribute, "").rpartition(":")
        if node.nsmap.get(prefix or None) == NS_XS:
            return BUILT_INS[local]
        if local in self.complex:
            return self.model(local)
        (restriction,) = _children(self.simple[local], "restriction")
        return self.kind(restriction, "base")


def _children(node: etree._Element, local: str) -> list[etree._Element]:
    return list(node.iterfind(f"{{{NS_XS}}}{local}"))
