"""The element a message's SOAP Body carries, as a tree the codecs, samples and diff read."""

from __future__ import annotations

from lxml import etree

from bridge.contracts.model import Body, Contract
from bridge.mapping.xsdtree import ComplexType, Element, Group, Wildcard


def body_element(contract: Contract, body: Body) -> Element:
    """The global element of a document-style body; for an RPC body, a wrapper element
    `{namespace}Operation` (or `...Response`) whose content is the parts in order: a part
    declared by type as an unqualified child of that type, one declared by element as that
    element (WSDL 1.1, section 3.5)."""
    if len(body.parts) == 1 and body.parts[0].element == body.element:
        return contract.schema.element(body.element)
    children: list[Element | Group | Wildcard] = []
    for part in body.parts:
        if part.element is not None:
            children.append(contract.schema.element(part.element))
        else:
            assert part.type is not None
            children.append(Element(part.name, None, contract.schema.type(part.type)))
    qname = etree.QName(body.element)
    content = ComplexType(None, content=Group("sequence", children))
    return Element(qname.localname, qname.namespace, content)
