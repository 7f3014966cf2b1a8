"""Mapping specs: the declarative files under `mappings/`, loaded and checked, not yet compiled.

A spec file maps one XML message to one canonical class::

    element: TransferFunds              # the message's root element ...
    namespace: urn:bridge:banking:v1    # ... in this namespace (also the default for every path)
    model: TransferRequest              # a class of bridge.domain
    fields:                             # canonical field -> XML path, in the schema's order
      msg_id: MsgId
      amount: {path: Amt, type: money, currency: "@Ccy"}
      debtor: {path: Dbtr, fields: Party}         # a named group of fields (see `types`)
      "status, reason_code": {path: resultCode, code: corebank_result}

`types:` in a spec, or in `mappings/<contract>/types.yaml`, names reusable groups of fields.
Code tables live in `mappings/codes/<name>.yaml`. See the README, "Adding a mapping".

An imported service's messages have no canonical class: their specs say `model: json` and map
JSON names to the XSD's own names, one level at a time (`bridge.mapping.generic` compiles them
with the schema, `bridge contract import` writes them)::

    element: checkVat
    namespace: urn:ec.europa.eu:taxud:vies:services:checkVat:types
    model: json
    fields:                             # JSON name -> child element, @attribute, #text or ##any
      country: countryCode              # a renamed field
      vatNumber: vatNumber
      address: {path: address, fields: {street: street, "@kind": "@kind"}}
      trader: traderDetails             # a complex child without `fields`: its names as they are
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bridge.domain.errors import ConfigurationError

FIELD_KEYS = {"path", "type", "code", "currency", "units", "fields"}
JSON_MODEL = "json"
JSON_FIELD_KEYS = {"path", "fields"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    names: tuple[str, ...]  # canonical field name(s); several only for a multi-field code table
    path: str
    type: str | None = None
    code: str | None = None
    currency: str | None = None
    units: str = "major"
    fields: tuple[FieldSpec, ...] | None = None


@dataclass(frozen=True, slots=True)
class MessageSpec:
    name: str  # "<contract>/<file stem>", e.g. "banking/transfer_request"
    contract: str
    element: str
    namespace: str
    model: str
    fields: tuple[FieldSpec, ...]
    namespaces: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True, slots=True)
class CodeTable:
    name: str
    fields: tuple[str, ...]  # the canonical fields one code stands for (one or several)
    codes: dict[str, tuple[Any, ...]]  # XML code -> canonical values, one per field


def _fail(where: Path | str, message: str) -> ConfigurationError:
    return ConfigurationError(f"mapping spec {where}: {message}")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        # libyaml's parser when PyYAML has it: an imported schema's specs run to megabytes.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise _fail(path, "expected a mapping at the top level")
    return data


def _field_specs(
    raw: Any, types: dict[str, Any], where: str, seen: tuple[str, ...] = ()
) -> tuple[FieldSpec, ...]:
    if isinstance(raw, str):
        if raw not in types:
            raise _fail(where, f"unknown field group {raw!r}")
        if raw in seen:
            raise _fail(where, f"field group {raw!r} refers to itself")
        return _field_specs(types[raw], types, where, (*seen, raw))
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, "`fields` must be a non-empty mapping of canonical field -> XML path")
    specs = []
    for key, value in raw.items():
        names = tuple(part.strip() for part in str(key).split(","))
        here = f"{where}.{key}"
        if isinstance(value, str):
            specs.append(FieldSpec(names=names, path=value))
            continue
        if not isinstance(value, dict) or "path" not in value:
            raise _fail(here, "expected an XML path or a mapping with `path`")
        unknown = set(value) - FIELD_KEYS
        if unknown:
            raise _fail(here, f"unknown keys {sorted(unknown)}; allowed: {sorted(FIELD_KEYS)}")
        nested = value.get("fields")
        specs.append(
            FieldSpec(
                names=names,
                path=str(value["path"]),
                type=value.get("type"),
                code=value.get("code"),
                currency=value.get("currency"),
                units=value.get("units", "major"),
                fields=None if nested is None else _field_specs(nested, types, here, seen),
            )
        )
        if len(names) > 1 and value.get("code") is None:
            raise _fail(here, "several canonical fields need a code table (`code:`)")
    return tuple(specs)


def _json_fields(raw: Any, where: str) -> tuple[FieldSpec, ...]:
    """The fields of a `model: json` spec: names are taken whole (a JSON name may hold a comma)
    and a level may be empty (a message or element without content)."""
    if not isinstance(raw, dict):
        raise _fail(where, "`fields` must be a mapping of JSON name -> XSD name")
    specs = []
    for key, value in raw.items():
        here = f"{where}.{key}"
        if isinstance(value, str):
            specs.append(FieldSpec(names=(str(key),), path=value))
            continue
        if not isinstance(value, dict) or "path" not in value:
            raise _fail(here, "expected an XSD name or a mapping with `path`")
        unknown = set(value) - JSON_FIELD_KEYS
        if unknown:
            raise _fail(here, f"unknown keys {sorted(unknown)}; allowed: {sorted(JSON_FIELD_KEYS)}")
        nested = value.get("fields")
        specs.append(
            FieldSpec(
                names=(str(key),),
                path=str(value["path"]),
                fields=None if nested is None else _json_fields(nested, here),
            )
        )
    return tuple(specs)


def json_message_spec(data: dict[str, Any], *, name: str, contract: str, where: str) -> MessageSpec:
    """A `model: json` spec from its parsed YAML (the catalog's and the importer's entry)."""
    missing = {"element", "namespace", "model", "fields"} - set(data)
    if missing:
        raise _fail(where, f"missing keys {sorted(missing)}")
    if data["model"] != JSON_MODEL:
        raise _fail(where, f"expected `model: {JSON_MODEL}`")
    return MessageSpec(
        name=name,
        contract=contract,
        element=str(data["element"]),
        namespace=str(data["namespace"] or ""),
        model=JSON_MODEL,
        fields=_json_fields(data["fields"] if data["fields"] is not None else {}, where),
        description=str(data.get("description", "")),
    )


def load_message_spec(path: Path, root: Path) -> MessageSpec:
    contract = path.parent.name
    data = _read_yaml(path)
    if data.get("model") == JSON_MODEL:
        name = f"{contract}/{path.stem}"
        return json_message_spec(data, name=name, contract=contract, where=str(path))
    missing = {"element", "namespace", "model", "fields"} - set(data)
    if missing:
        raise _fail(path, f"missing keys {sorted(missing)}")
    shared = root / contract / "types.yaml"
    types: dict[str, Any] = {}
    if shared.exists():
        types.update(_read_yaml(shared).get("types") or {})
    types.update(data.get("types") or {})
    return MessageSpec(
        name=f"{contract}/{path.stem}",
        contract=contract,
        element=str(data["element"]),
        namespace=str(data["namespace"]),
        model=str(data["model"]),
        fields=_field_specs(data["fields"], types, str(path)),
        namespaces={str(k): str(v) for k, v in (data.get("namespaces") or {}).items()},
        description=str(data.get("description", "")),
    )


def load_code_table(path: Path) -> CodeTable:
    data = _read_yaml(path)
    codes = data.get("codes")
    if not isinstance(codes, dict) or not codes:
        raise _fail(path, "a code table needs `codes:`, a mapping of code -> canonical value(s)")
    fields = tuple(data.get("fields") or ())
    table: dict[str, tuple[Any, ...]] = {}
    for code, value in codes.items():
        if fields:
            if not isinstance(value, dict) or set(value) - set(fields):
                raise _fail(path, f"code {code!r}: expected a mapping with keys from {fields}")
            table[str(code)] = tuple(value.get(name) for name in fields)
        else:
            table[str(code)] = (value,)
    reverse = {values: code for code, values in table.items()}
    if len(reverse) != len(table):
        raise _fail(path, "two codes map to the same canonical value: the table must be one-to-one")
    return CodeTable(name=path.stem, fields=fields, codes=table)


def load_currency_units(path: Path) -> dict[str, int]:
    units = _read_yaml(path).get("minor_units")
    if not isinstance(units, dict):
        raise _fail(path, "expected `minor_units:` currency -> digits")
    return {str(code): int(digits) for code, digits in units.items()}
