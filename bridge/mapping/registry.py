"""All mapping specs under `mappings/`, compiled once at start-up and looked up by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bridge.domain.errors import ConfigurationError
from bridge.mapping import xml
from bridge.mapping.compiler import CompiledMapping
from bridge.mapping.scalars import Currencies
from bridge.mapping.spec import load_code_table, load_currency_units, load_message_spec

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "mappings"
SERVICES = "services"  # mappings/services/<name>/: the specs `bridge contract import` writes


class Mappings:
    """``mappings["banking/transfer_request"].read(element)``; ``mappings.for_element(tag)``."""

    def __init__(self, compiled: dict[str, CompiledMapping], currencies: Currencies) -> None:
        self._by_name = compiled
        self.currencies = currencies
        self._by_root: dict[tuple[str, str], CompiledMapping] = {}
        for mapping in compiled.values():
            self._by_root.setdefault((mapping.spec.contract, mapping.root_tag), mapping)

    @classmethod
    def load(cls, root: Path = DEFAULT_ROOT) -> Mappings:
        if not root.is_dir():
            raise ConfigurationError(f"mappings directory {root} does not exist")
        currencies = Currencies(load_currency_units(root / "codes" / "iso4217.yaml"))
        codes = {
            path.stem: load_code_table(path)
            for path in sorted((root / "codes").glob("*.yaml"))
            if path.stem != "iso4217"
        }
        compiled = {}
        for path in sorted(root.glob("*/*.yaml")):
            # services/: imported contracts' specs, compiled by the contract catalog with the XSD
            if path.parent.name in ("codes", SERVICES) or path.name == "types.yaml":
                continue
            spec = load_message_spec(path, root)
            compiled[spec.name] = CompiledMapping(spec, codes, currencies)
        return cls(compiled, currencies)

    def __getitem__(self, name: str) -> CompiledMapping:
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigurationError(f"no mapping named {name!r}") from None

    def __iter__(self) -> Iterator[CompiledMapping]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def read_bytes(self, name: str, data: bytes) -> Any:
        """Parse (hardened) and map one message."""
        return self[name].read(xml.parse(data))
