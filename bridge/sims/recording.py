"""Recorded exchanges of an imported service: what `bridge sim record` writes and what the
generated simulator serves back when told to replay (`--replay DIR`, `replay:` in service.yaml).

One exchange is three files in the recording's folder, under the operation's name:

    DIR/checkVat/3f9c0a1e5b7d2c48.request.xml    the request's Body child, masked
    DIR/checkVat/3f9c0a1e5b7d2c48.reply.xml      the whole reply as it came, masked
    DIR/checkVat/3f9c0a1e5b7d2c48.json           {"operation", "status", "request", "reply"}

Plain files a person can read and review before they are committed. Nothing secret or personal
is ever written: every element and attribute value goes through `mask_field`
(`bridge.domain.redaction`: secrets, personal names, account numbers), and HTTP headers
(Authorization, API keys) are not recorded at all.

A request is found again by its operation and the canonical form of its masked Body child
(`request_key`): element and attribute names as Clark names (so prefixes do not matter),
attributes in order, whitespace between elements ignored. The incoming request is masked the
same way before it is looked up, and masking is idempotent, so an exchange is found by the
request that was recorded and by any that differs from it only in what the masking hides.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from bridge.contracts.catalog import ImportedService
from bridge.domain.errors import BridgeError, ConfigurationError
from bridge.domain.redaction import mask_field
from bridge.mapping import xml

Fallback = Literal["fault", "sample"]
FALLBACKS: tuple[Fallback, ...] = ("fault", "sample")
_KEY_LENGTH = 16  # hex characters of the request key in file names


def masked(element: Any) -> Any:
    """A copy of `element` with every text and attribute value masked by the name of the
    element or attribute it belongs to."""
    copied = copy.deepcopy(element)
    for node in copied.iter():
        if not isinstance(node.tag, str):
            continue
        name = etree.QName(node).localname
        if node.text is not None and node.text.strip():
            node.text = mask_field(name, node.text)
        for attribute, value in list(node.attrib.items()):
            node.set(attribute, mask_field(etree.QName(attribute).localname, value))
    return copied


def _canonical(element: Any) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip() if not children else ""
    return [
        element.tag,
        sorted(element.attrib.items()),
        text,
        [_canonical(child) for child in children],
    ]


def request_key(operation: str, body: Any) -> str:
    """The key a request is recorded and found under: its operation and the canonical form of
    its Body child, which the caller has masked (`masked`)."""
    canonical = json.dumps([operation, _canonical(body)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:_KEY_LENGTH]


def masked_reply(content: bytes) -> bytes:
    """A reply as it will be stored: XML masked element by element; anything else (an HTML
    error page, an empty body) masked as text under no name."""
    try:
        root = xml.parse(content)
    except BridgeError:
        return mask_field("", content.decode("utf-8", errors="replace")).encode()
    out: bytes = etree.tostring(masked(root), xml_declaration=True, encoding="UTF-8")
    return out


@dataclass(frozen=True)
class Exchange:
    """One recorded call: the masked request's Body child, the masked reply, its HTTP status."""

    operation: str
    request: Any  # the Body child, masked
    reply: bytes
    status: int

    @property
    def key(self) -> str:
        return request_key(self.operation, self.request)


class Recording:
    """The exchanges in one folder (the module docstring): written by the recording proxy,
    read by the simulator."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, operation: str, request: Any, status: int, reply: bytes) -> Exchange:
        """Mask and write one exchange (the same request again replaces the older one)."""
        exchange = Exchange(operation, masked(request), masked_reply(reply), status)
        folder, key = self.folder / operation, exchange.key
        folder.mkdir(parents=True, exist_ok=True)
        request_bytes = etree.tostring(exchange.request, encoding="UTF-8", pretty_print=True)
        _write(folder / f"{key}.request.xml", request_bytes)
        _write(folder / f"{key}.reply.xml", exchange.reply)
        index = {
            "operation": operation,
            "status": status,
            "request": f"{exchange.key}.request.xml",
            "reply": f"{exchange.key}.reply.xml",
        }
        _write(folder / f"{key}.json", json.dumps(index, indent=2).encode() + b"\n")
        return exchange

    def __iter__(self) -> Iterator[Exchange]:
        for index in sorted(self.folder.glob("*/*.json")):
            yield self._read(index)

    def _read(self, index: Path) -> Exchange:
        try:
            entry = json.loads(index.read_text(encoding="utf-8"))
            operation, status = str(entry["operation"]), int(entry["status"])
            request = xml.parse(_beside(index, entry["request"]).read_bytes())
            reply = _beside(index, entry["reply"]).read_bytes()
        except (OSError, ValueError, KeyError, TypeError, BridgeError) as exc:
            raise ConfigurationError(f"{index}: not a recorded exchange ({exc})") from None
        return Exchange(operation, masked(request), reply, status)


def _beside(index: Path, name: Any) -> Path:
    """A file the index names, in the index's own folder and nowhere else."""
    if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
        raise ValueError(f"{name!r} is not a file name beside the index")
    return index.parent / name


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Replay:
    """The recorded answers of one service, loaded once: `answer(operation, body)` -> the
    exchange recorded for that request, or None. `fallback` says what the simulator does with
    a request nobody recorded: a Client fault saying so, or its generated sample."""

    def __init__(self, folder: Path, exchanges: list[Exchange], fallback: Fallback) -> None:
        self.folder = folder
        self.fallback = fallback
        self._by_key = {exchange.key: exchange for exchange in exchanges}

    @classmethod
    def load(cls, folder: Path, service: ImportedService, fallback: Fallback = "fault") -> Replay:
        """The recordings in `folder` of `service`: an absent folder, or an exchange of an
        operation the contract does not have, is a ConfigurationError naming it."""
        if not folder.is_dir():
            raise ConfigurationError(f"{folder}: no recordings of {service.name} here")
        exchanges = list(Recording(folder))
        for exchange in exchanges:
            if exchange.operation not in service.contract.operations:
                raise ConfigurationError(
                    f"{folder / exchange.operation}: {service.name} has no operation "
                    f"{exchange.operation!r}"
                )
        return cls(folder, exchanges, fallback)

    def __len__(self) -> int:
        return len(self._by_key)

    def answer(self, operation: str, body: Any) -> Exchange | None:
        return self._by_key.get(request_key(operation, masked(body)))


def replay_of(service: ImportedService) -> Replay | None:
    """The recordings an imported service's simulator answers from (`replay:` in its
    service.yaml, relative to the service's folder), or None."""
    config = service.config
    if config.replay is None:
        return None
    folder = Path(config.replay)
    if not folder.is_absolute():
        home = service.contract.wsdl.parent
        for _ in Path(config.wsdl).parts[1:]:
            home = home.parent
        folder = home / folder
    return Replay.load(folder, service, "sample" if config.replay_fallback == "sample" else "fault")
