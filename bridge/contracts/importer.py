"""`import_contract`: a WSDL turned into plain files the bridge serves and a person can edit.

    <contracts_dir>/services/<name>/          the WSDL and every file it imports, same layout
    <contracts_dir>/services/<name>/service.yaml
    <mappings_dir>/services/<name>/<Operation>.input.yaml (.output, .fault.<Fault>): one
                                              mapping spec per message, identity names

The files are written to a staging folder beside their place, checked there by the catalog's
own start-up check (`load_service`), and only then moved into place: an import that would not
start never lands, and a failed one leaves what was there before untouched. An existing name is
replaced only when asked (`force`).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import yaml

from bridge.contracts.catalog import CONFIG, SERVICES, load_service, message_root, spec_files
from bridge.contracts.config import SIMULATOR, OperationPolicy, ServiceConfig
from bridge.contracts.loader import contract_files, load_contract
from bridge.contracts.model import Contract
from bridge.domain.errors import ConfigurationError, NotFound
from bridge.mapping.generic import default_spec

NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# libyaml's emitter when PyYAML has it: ten times the pure-Python one on a large schema's specs.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ConfigurationError(
            f"{name!r} is not a service name: a lower-case letter, then up to 39 lower-case "
            "letters, digits, '-' or '_'"
        )
    return name


def import_contract(
    source: Path,
    *,
    name: str,
    contracts_dir: Path,
    mappings_dir: Path,
    upstream: str | None = None,
    port: str | None = None,
    safe: Iterable[str] = (),
    force: bool = False,
) -> Contract:
    """Import the WSDL `source` as the service `name`; the contract as it now lies in place."""
    check_name(name)
    target = contracts_dir / SERVICES / name
    specs_target = mappings_dir / SERVICES / name
    if not force and (target.exists() or specs_target.exists()):
        raise ConfigurationError(
            f"a contract named {name} is imported already ({target}); --force replaces it"
        )
    contract = load_contract(source, name=name, port=port)
    config = _config(contract, source, name, upstream, set(safe))
    files = contract_files(source)
    if CONFIG in files:
        raise ConfigurationError(f"{source}: a contract file named {CONFIG} would be overwritten")
    staged = target.with_name(f".{name}.importing")
    staged_specs = specs_target.with_name(f".{name}.importing")
    for folder in (staged, staged_specs):
        shutil.rmtree(folder, ignore_errors=True)
    try:
        folder = source.resolve().parent
        for relative in files:
            copied = staged / relative
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / relative, copied)
        (staged / CONFIG).write_text(config.to_yaml(source.name), encoding="utf-8")
        _write_specs(contract, staged_specs)
        load_service(staged, staged_specs, name=name)
        _put_in_place(staged, target)
        _put_in_place(staged_specs, specs_target)
    finally:
        for folder in (staged, staged_specs):
            shutil.rmtree(folder, ignore_errors=True)
    return dataclasses.replace(contract, wsdl=target / files[0])


def remove_contract(name: str, contracts_dir: Path, mappings_dir: Path) -> None:
    """Delete an imported service's files (contract, import file and mapping specs)."""
    check_name(name)
    target = contracts_dir / SERVICES / name
    if not target.is_dir():
        raise NotFound(f"no imported contract named {name!r} (in {target.parent})")
    shutil.rmtree(target)
    shutil.rmtree(mappings_dir / SERVICES / name, ignore_errors=True)


def _config(
    contract: Contract, source: Path, name: str, upstream: str | None, safe: set[str]
) -> ServiceConfig:
    unknown = sorted(safe - set(contract.operations))
    if unknown:
        raise ConfigurationError(
            f"--safe {unknown[0]}: the contract has no such operation; "
            f"operations: {', '.join(contract.operations)}"
        )
    config = ServiceConfig(
        name=name,
        wsdl=source.name,
        port=contract.port.name,
        upstream=upstream or SIMULATOR,
        scope=f"{name}:call",
        operations={op: OperationPolicy(safe=op in safe) for op in contract.operations},
    )
    # The same checks a hand-written file gets (an upstream that is not an http(s) URL).
    return ServiceConfig.parse(yaml.safe_load(config.to_yaml(source.name)), "--upstream")


def _write_specs(contract: Contract, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for (operation_name, message), file_name in spec_files(contract).items():
        operation = contract.operations[operation_name]
        element, wrapped = message_root(contract, operation, message)
        what = message if message in ("input", "output") else f"fault {message}"
        description = f"{contract.name} {operation_name} {what}"
        if operation.documentation:
            description += f": {operation.documentation}"
        spec = default_spec(element, wrapped=wrapped, description=description)
        text = yaml.dump(spec, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
        (folder / file_name).write_text(text, encoding="utf-8")


def _put_in_place(staged: Path, target: Path) -> None:
    """Move `staged` to `target`, replacing what was there."""
    if target.exists():
        retired = target.with_name(f".{target.name}.replaced")
        shutil.rmtree(retired, ignore_errors=True)
        target.rename(retired)
        shutil.rmtree(retired)
    staged.rename(target)
