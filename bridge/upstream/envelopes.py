"""SOAP 1.1 and 1.2 envelopes as the servers of imported contracts read and write them.

The pass-through (`bridge.soap.passthrough`) and the generated simulator (`bridge.sims.services`)
speak whichever version the served binding names (`bridge.upstream.transport.SoapVersion`, which
the client of the same service speaks): they read the request's media type and action, open its
Envelope (an optional Header, one Body, one element in it), and write faults in that version's
words (1.1 Client/Server, 1.2 Sender/Receiver). No spyne: both doors are plain lxml.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from bridge.domain.errors import InvalidInput, VersionMismatch
from bridge.upstream.transport import SOAP11, SOAP12, SoapVersion

XML_CONTENT = "text/xml; charset=utf-8"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def content_type(version: SoapVersion) -> str:
    return XML_CONTENT if version is SOAP11 else f"{version.content_type}; charset=utf-8"


def requested_action(environ: dict[str, Any], version: SoapVersion) -> str | None:
    """The operation the caller names: SOAPAction (1.1) or the media type's action (1.2)."""
    media, _, parameters = environ.get("CONTENT_TYPE", "").partition(";")
    media = media.strip().lower()
    if media != version.content_type:
        if media in (SOAP11.content_type, SOAP12.content_type):
            raise VersionMismatch(
                f"this service speaks SOAP {'1.2' if version is SOAP12 else '1.1'} "
                f"({version.content_type})"
            )
        raise InvalidInput(f"Content-Type {media or '(none)'!r} is not {version.content_type}")
    if version is SOAP11:
        raw: str | None = environ.get("HTTP_SOAPACTION")
        return None if raw is None else raw.strip().strip('"')
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "action":
            action: str = value.strip().strip('"')
            return action
    return None


def open_envelope(root: Any, version: SoapVersion) -> tuple[list[Any], Any]:
    """(the Header's children, the one element of the Body) of an Envelope of `version`."""
    ns = version.envelope
    if root.tag != f"{{{ns}}}Envelope":
        if etree.QName(root).localname == "Envelope":
            raise VersionMismatch("the Envelope is not of the SOAP version this service speaks")
        raise InvalidInput("the request is not a SOAP Envelope")
    children = [child for child in root if isinstance(child.tag, str)]
    header = children.pop(0) if children and children[0].tag == f"{{{ns}}}Header" else None
    if len(children) != 1 or children[0].tag != f"{{{ns}}}Body":
        raise InvalidInput("a SOAP Envelope holds an optional Header and one Body, nothing else")
    elements = [child for child in children[0] if isinstance(child.tag, str)]
    texts = [children[0].text, *(child.tail for child in children[0])]
    if len(elements) != 1 or any((text or "").strip() for text in texts):
        raise InvalidInput("the SOAP Body must hold exactly one element")
    headers = [] if header is None else [h for h in header if isinstance(h.tag, str)]
    return headers, elements[0]


CODES_12 = {
    "Client": "Sender",
    "Server": "Receiver",
    "VersionMismatch": "VersionMismatch",
    "MustUnderstand": "MustUnderstand",
}


def fault_envelope(version: SoapVersion, code: str, text: str, detail: list[Any]) -> bytes:
    """A fault of `version`: `code` is SOAP 1.1's (Client, Server, ...), said in 1.2's words
    (Sender, Receiver, ...) for a SOAP 1.2 caller."""
    ns = version.envelope
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{ns}}}Body"), f"{{{ns}}}Fault")
    if version is SOAP11:
        etree.SubElement(fault, "faultcode").text = f"soap:{code}"
        etree.SubElement(fault, "faultstring").text = text
        holder = etree.SubElement(fault, "detail")
    else:
        value = etree.SubElement(etree.SubElement(fault, f"{{{ns}}}Code"), f"{{{ns}}}Value")
        value.text = f"soap:{CODES_12.get(code.split('.')[0], 'Receiver')}"
        reason = etree.SubElement(etree.SubElement(fault, f"{{{ns}}}Reason"), f"{{{ns}}}Text")
        reason.set(_XML_LANG, "en")
        reason.text = text
        holder = etree.SubElement(fault, f"{{{ns}}}Detail")
    holder.extend(detail)
    return serialised(envelope)


def serialised(root: Any) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out
