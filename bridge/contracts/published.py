"""An imported contract's files as a door serves them at `?wsdl` and `?xsd=<path>`.

Built once at start-up, for the pass-through (`bridge.soap.passthrough`) and the generated
simulator (`bridge.sims.services`) alike: the files the import copied (the main WSDL and every
file it imports or includes, inside its folder), each import or include pointed at
`<address>?xsd=<path relative to the folder>`, and only the served port left in the WSDL, at the
door's own address (a client reading it can call only what is served, and learns nothing of
where the upstream lives). Parsed with the hardened parser, as the loader did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from lxml import etree

from bridge.contracts.model import Contract
from bridge.mapping import xml

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_XS = "http://www.w3.org/2001/XMLSchema"
ADDRESSES = (
    "{http://schemas.xmlsoap.org/wsdl/soap/}address",
    "{http://schemas.xmlsoap.org/wsdl/soap12/}address",
)
# A contract's own files may be large (a schema of thousands of types): read once at start-up.
CONTRACT_LIMITS = xml.XmlLimits(max_elements=5_000_000, max_depth=256)


@dataclass(frozen=True)
class Documents:
    """The contract's files as served: `wsdl`, and every other file by its relative path."""

    wsdl: bytes
    files: dict[str, bytes]


def served_documents(contract: Contract, address: str) -> Documents:
    """Every .wsdl and .xsd file of the contract's folder, their imports and includes pointed
    at `<address>?xsd=<path>`; the main WSDL with only the served port, at `address`."""
    folder = contract.wsdl.parent
    files: dict[str, bytes] = {}
    wsdl = b""
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".wsdl", ".xsd") or not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        root = xml.parse(path.read_bytes(), CONTRACT_LIMITS)
        _point_imports_here(root, PurePosixPath(relative).parent, address)
        if path == contract.wsdl:
            _only_the_served_port(root, contract.port.service, contract.port.name, address)
            wsdl = _serialised(root)
        else:
            files[relative] = _serialised(root)
    return Documents(wsdl, files)


def _point_imports_here(root: Any, folder: PurePosixPath, address: str) -> None:
    for element in root.iter(
        f"{{{NS_WSDL}}}import", f"{{{NS_XS}}}import", f"{{{NS_XS}}}include", f"{{{NS_XS}}}redefine"
    ):
        attribute = "location" if element.tag == f"{{{NS_WSDL}}}import" else "schemaLocation"
        location = element.get(attribute)
        if location and urlsplit(location).scheme:
            # The one remote location the loader lets in: a well-known namespace's, never read.
            # Served without it (the import keeps its namespace): a client is sent to no host.
            del element.attrib[attribute]
        elif location:
            # The loader let in only locations inside the folder: join and normalise them.
            target = _normalised(folder / location)
            element.set(attribute, f"{address}?xsd={quote(target, safe='/')}")


def _normalised(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def _only_the_served_port(root: Any, service: str, port: str, address: str) -> None:
    """Every other port is dropped: a client reading this WSDL can only call what is served."""
    for element in list(root.iter(f"{{{NS_WSDL}}}service")):
        for item in list(element.iter(f"{{{NS_WSDL}}}port")):
            if element.get("name") == service and item.get("name") == port:
                for tag in ADDRESSES:
                    for found in item.iter(tag):
                        found.set("location", address)
            else:
                element.remove(item)
        if not element.findall(f"{{{NS_WSDL}}}port"):
            element.getparent().remove(element)


def _serialised(root: Any) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def asked_document(documents: Documents, query: dict[str, list[str]]) -> bytes | None:
    """The document a `?wsdl` or `?xsd=<path>` query asks for; None for any other query."""
    if any(name.lower() == "wsdl" for name in query):
        return documents.wsdl
    wanted = query.get("xsd")
    if wanted and len(wanted) == 1:
        return documents.files.get(wanted[0])
    return None
