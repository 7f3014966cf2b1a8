"""The imported services, loaded and checked once at start-up.

    <contracts_dir>/services/<name>/service.yaml         how the service is served
    <contracts_dir>/services/<name>/<the WSDL and its imports>
    <mappings_dir>/services/<name>/<Operation>.input.yaml, .output.yaml, .fault.<Fault>.yaml

Everything that can be wrong with an imported service is found here, before the bridge
serves anything: a `service.yaml` key the bridge does not know, a contract that no longer
loads, a mapping spec whose path the schema no longer has or that leaves out a required
element, a spec for an operation the contract does not have, or none for one it has. Each is
a ConfigurationError naming the file and the field. `bridge contract import` runs the same
check on what it wrote before it puts it in place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bridge.contracts.config import ServiceConfig
from bridge.contracts.loader import load_contract
from bridge.contracts.messages import body_element
from bridge.contracts.model import Contract, Operation
from bridge.domain.errors import ConfigurationError
from bridge.mapping.generic import MessageCodec, compile_codec
from bridge.mapping.spec import load_message_spec
from bridge.mapping.xsdtree import Element

__all__ = ["Catalog", "ImportedService", "ServiceConfig", "load_service", "spec_files"]

SERVICES = "services"
CONFIG = "service.yaml"


@dataclass(frozen=True)
class ImportedService:
    """One imported contract, ready to serve: `codecs[(operation, "input" | "output" |
    fault name)]` translates its messages between JSON and XML."""

    name: str
    contract: Contract
    config: ServiceConfig
    codecs: Mapping[tuple[str, str], MessageCodec]


class Catalog:
    """Every imported service, by name, in name order."""

    def __init__(self, services: list[ImportedService]) -> None:
        self._services = {service.name: service for service in services}

    @classmethod
    def load(cls, contracts_dir: Path, mappings_dir: Path) -> Catalog:
        """The services under `contracts_dir/services/` (none when it does not exist)."""
        folder = contracts_dir / SERVICES
        if not folder.is_dir():
            return cls([])
        return cls(
            [
                load_service(service, mappings_dir / SERVICES / service.name)
                for service in sorted(folder.iterdir())
                if service.is_dir() and not service.name.startswith(".")
            ]
        )

    def __iter__(self) -> Iterator[ImportedService]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def __getitem__(self, name: str) -> ImportedService:
        try:
            return self._services[name]
        except KeyError:
            raise ConfigurationError(f"no imported service named {name!r}") from None

    def names(self) -> list[str]:
        return list(self._services)

    def scopes(self) -> set[str]:
        """Every scope an imported service declares (`vat:call`, `vat:approx`)."""
        return {scope for service in self for scope in service.config.scopes()}


def load_service(folder: Path, specs: Path, name: str | None = None) -> ImportedService:
    """The service in `folder` with its mapping specs in `specs`, every file checked. `name`
    is the service's name when the folder is not named like it (an import being staged)."""
    config = ServiceConfig.read(folder / CONFIG, name or folder.name)
    contract = load_contract(folder / config.wsdl, name=config.name, port=config.port)
    for named in config.operations:
        if named not in contract.operations:
            raise ConfigurationError(
                f"{folder / CONFIG}: operations.{named}: the contract has no such operation; "
                f"operations: {', '.join(contract.operations)}"
            )
    codecs = {}
    wanted = spec_files(contract)
    for key, file_name in wanted.items():
        operation = contract.operations[key[0]]
        codecs[key] = _codec(contract, operation, key[1], specs / file_name, specs.parent)
    if specs.is_dir():
        extra = sorted(p.name for p in specs.glob("*.yaml") if p.name not in wanted.values())
        extra = [name for name in extra if name != "types.yaml"]
        if extra:
            raise ConfigurationError(
                f"{specs / extra[0]}: matches no message of the contract "
                f"(expected names: <Operation>.input.yaml, .output.yaml, .fault.<Fault>.yaml)"
            )
    return ImportedService(config.name, contract, config, codecs)


def spec_files(contract: Contract) -> dict[tuple[str, str], str]:
    """The mapping spec file of each message: (operation, "input" | "output" | fault) -> name."""
    files = {}
    for operation in contract.operations.values():
        files[(operation.name, "input")] = f"{operation.name}.input.yaml"
        if operation.output is not None:
            files[(operation.name, "output")] = f"{operation.name}.output.yaml"
        for fault in operation.faults:
            files[(operation.name, fault.name)] = f"{operation.name}.fault.{fault.name}.yaml"
    return files


def message_root(contract: Contract, operation: Operation, message: str) -> tuple[Element, bool]:
    """The element a message carries and whether its JSON form is the children of a wrapper."""
    if message == "input":
        return body_element(contract, operation.input), operation.input.wrapped
    if message == "output":
        assert operation.output is not None
        return body_element(contract, operation.output), operation.output.wrapped
    fault = next(fault for fault in operation.faults if fault.name == message)
    return contract.schema.element(fault.element), False


def _codec(
    contract: Contract, operation: Operation, message: str, path: Path, root: Path
) -> MessageCodec:
    if not path.is_file():
        raise ConfigurationError(
            f"{path}: missing: every message of operation {operation.name} needs its mapping "
            "spec (import the contract again with --force to write the defaults)"
        )
    element, wrapped = message_root(contract, operation, message)
    try:
        spec = load_message_spec(path, root)
        return compile_codec(element, spec, wrapped=wrapped, validator=contract.schema.validator)
    except ConfigurationError as exc:
        if str(path) in exc.detail:
            raise
        raise ConfigurationError(f"{path}: {exc.detail}") from None
