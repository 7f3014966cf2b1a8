"""The files of one contract, read safely: the WSDL and everything it imports or includes.

A contract is a folder. `wsdl:import`, `xsd:import` and `xsd:include` are followed by their
relative location, and only inside the main WSDL's folder: a remote location (`http://...`),
an absolute path or a `..` that leaves the folder is refused, as is a DTD or an entity
declaration. Importing a contract therefore never touches the network and never reads a file
the person importing it did not hand over with it. Each refusal is a `ConfigurationError`
naming the file, the line and what was refused.

One exception keeps real contracts importable without weakening that: an `xsd:import` of a
namespace every SOAP toolkit knows by heart (SOAP encoding, the `xml:` namespace) from a remote
location keeps the namespace and ignores the location, which is never read. A schema that then
uses a type of that namespace fails to compile with a message naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from lxml import etree

from bridge.domain.errors import ConfigurationError, InvalidInput
from bridge.mapping import xml

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL20 = "http://www.w3.org/ns/wsdl"
XSD = "http://www.w3.org/2001/XMLSchema"

# Namespaces whose remote schemaLocation is never read but tolerated (see the module docstring).
WELL_KNOWN = frozenset(
    {
        "http://schemas.xmlsoap.org/soap/encoding/",
        "http://www.w3.org/2003/05/soap-encoding",
        "http://www.w3.org/XML/1998/namespace",
    }
)
# Contracts are bigger than messages: a schema of thousands of types has tens of thousands of
# elements. libxml2 keeps its own cap of 256 levels behind ours.
LIMITS = xml.XmlLimits(max_elements=2_000_000, max_depth=200)
MAX_BYTES = 64 * 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")

Kind = Literal["wsdl", "xsd"]


@dataclass(frozen=True, eq=False)
class SourceFile:
    """One file of a contract: `relative` is its path inside the contract's folder (POSIX)."""

    path: Path
    relative: str
    root: Any  # the parsed document element
    kind: Kind

    def at(self, node: Any, what: str) -> ConfigurationError:
        """A refusal naming this file and the line of `node`."""
        return refusal(self.path, getattr(node, "sourceline", None), what)


@dataclass(frozen=True)
class Sources:
    """Every file of a contract, the main WSDL first, in the order they were reached."""

    folder: Path
    main: SourceFile
    files: list[SourceFile] = field(default_factory=list)

    def wsdls(self) -> list[SourceFile]:
        return [source for source in self.files if source.kind == "wsdl"]


def refusal(path: Path | str, line: int | None, what: str) -> ConfigurationError:
    """`path:line: what` (the form compilers use, which editors can jump to)."""
    where = f"{path}:{line}" if line else str(path)
    return ConfigurationError(f"{where}: {what}")


def read_sources(wsdl: Path) -> Sources:
    """The contract whose main WSDL is `wsdl`, with every file it reaches, all checked."""
    if not wsdl.is_file():
        raise ConfigurationError(f"{wsdl}: no such file")
    folder = wsdl.resolve().parent
    main = _read(wsdl, folder, "wsdl")
    sources = Sources(folder=folder, main=main, files=[main])
    seen = {wsdl.resolve(): main}
    pending = [main]
    while pending:
        source = pending.pop(0)
        for node, location in _references(source):
            target = _locate(source, node, location, folder)
            if target is None:
                continue
            found = seen.get(target)
            if found is None:
                kind: Kind = "wsdl" if node.tag == f"{{{WSDL}}}import" else "xsd"
                found = _read(target, folder, kind, shown=wsdl.parent / target.relative_to(folder))
                seen[target] = found
                sources.files.append(found)
                pending.append(found)
            if node.tag == f"{{{XSD}}}include":
                _check_include(source, node, found)
    return sources


def _check_include(source: SourceFile, node: Any, included: SourceFile) -> None:
    """An included schema joins the including one's namespace: it must declare the same one."""
    namespace = node.getparent().get("targetNamespace")
    theirs = included.root.get("targetNamespace")
    if theirs == namespace:
        return
    if theirs is None:
        raise source.at(
            node,
            "xsd:include of a schema without targetNamespace (a chameleon include) is not "
            f"supported; give {included.relative} the targetNamespace {namespace}",
        )
    raise source.at(
        node, f"xsd:include of {included.relative}, whose namespace {theirs} is not {namespace}"
    )


def _read(path: Path, folder: Path, kind: Kind, shown: Path | None = None) -> SourceFile:
    shown = shown or path
    try:
        if path.stat().st_size > MAX_BYTES:
            raise refusal(shown, None, f"larger than {MAX_BYTES // 1024 // 1024} MB, refused")
        data = path.read_bytes()
    except OSError as exc:
        raise refusal(shown, None, f"cannot be read ({exc.strerror})") from None
    for mark in (b"<!DOCTYPE", b"<!ENTITY"):
        if mark in data:
            line = data[: data.index(mark)].count(b"\n") + 1
            raise refusal(shown, line, "a DTD or entity declaration is refused")
    try:
        root = xml.parse(data, LIMITS)
    except InvalidInput as exc:
        raise refusal(shown, None, exc.detail) from None
    if root.tag == f"{{{XSD}}}schema":
        kind = "xsd"  # a wsdl:import may name a schema file
    elif root.tag == f"{{{WSDL20}}}description":
        raise refusal(shown, root.sourceline, "WSDL 2.0 is not supported; import a WSDL 1.1")
    elif root.tag != f"{{{WSDL}}}definitions" or kind != "wsdl":
        expected = "a WSDL 1.1 wsdl:definitions" if kind == "wsdl" else "an xsd:schema"
        raise refusal(shown, root.sourceline, f"expected {expected}, found {root.tag}")
    relative = path.resolve().relative_to(folder).as_posix()
    return SourceFile(path=shown, relative=relative, root=root, kind=kind)


def schemas_of(source: SourceFile) -> list[Any]:
    """The `xsd:schema` elements of a file: its `wsdl:types` children, or the file itself."""
    if source.kind == "xsd":
        return [source.root]
    return list(source.root.findall(f"{{{WSDL}}}types/{{{XSD}}}schema"))


def _references(source: SourceFile) -> list[tuple[Any, str | None]]:
    found: list[tuple[Any, str | None]] = []
    if source.kind == "wsdl":
        for node in source.root.iterfind(f"{{{WSDL}}}import"):
            found.append((node, node.get("location")))
    for schema in schemas_of(source):
        for node in schema:
            if node.tag in (f"{{{XSD}}}import", f"{{{XSD}}}include"):
                found.append((node, node.get("schemaLocation")))
            elif node.tag in (f"{{{XSD}}}redefine", f"{{{XSD}}}override"):
                what = etree.QName(node).localname
                raise source.at(node, f"xsd:{what} is not supported")
    return found


def _locate(source: SourceFile, node: Any, location: str | None, folder: Path) -> Path | None:
    """The file `location` names, checked to lie inside `folder`; None for a namespace import
    without location (or with the ignored remote location of a well-known namespace)."""
    what = ("wsdl:" if node.tag.startswith(f"{{{WSDL}}}") else "xsd:") + etree.QName(node).localname
    if location is None or not location.strip():
        if node.tag == f"{{{XSD}}}import":
            return None
        raise source.at(node, f"{what} without a location")
    location = location.strip()
    parts = urlsplit(location)
    if _DRIVE.match(location) or location.startswith(("/", "\\")) or parts.scheme == "file":
        raise source.at(
            node,
            f"{what} of the absolute path {location!r} refused; "
            "a contract's files are named relative to it",
        )
    if parts.scheme or parts.netloc:
        if node.tag == f"{{{XSD}}}import" and node.get("namespace") in WELL_KNOWN:
            return None
        raise source.at(
            node,
            f"{what} of the remote location {location!r} refused; "
            "a contract is read from its own folder, never from the network",
        )
    relative = PurePosixPath(unquote(parts.path).replace("\\", "/"))
    target = (source.path.resolve().parent / relative).resolve()
    if not target.is_relative_to(folder):
        raise source.at(node, f"{what} of {location!r} refused: it leaves the contract's folder")
    if not target.is_file():
        raise source.at(node, f"{what} of {location!r}: no such file beside the contract")
    return target
