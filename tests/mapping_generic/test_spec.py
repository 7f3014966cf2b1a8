"""`model: json` mapping specs (bridge.mapping.spec): the files an import writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.domain.errors import ConfigurationError
from bridge.mapping.spec import FieldSpec, json_message_spec, load_message_spec


def _spec(fields: Any) -> dict[str, Any]:
    return {"element": "checkVat", "namespace": "urn:vat", "model": "json", "fields": fields}


def test_names_are_taken_whole_and_nested_fields_inline() -> None:
    spec = json_message_spec(
        _spec(
            {"a, b": "countryCode", "address": {"path": "address", "fields": {"@kind": "@kind"}}}
        ),
        name="vat/checkVat.input",
        contract="vat",
        where="vat.yaml",
    )
    assert spec.fields == (
        FieldSpec(names=("a, b",), path="countryCode"),
        FieldSpec(names=("address",), path="address", fields=(FieldSpec(("@kind",), "@kind"),)),
    )


def test_an_empty_message_has_no_fields() -> None:
    assert json_message_spec(_spec(None), name="v/p", contract="v", where="p").fields == ()
    assert json_message_spec(_spec({}), name="v/p", contract="v", where="p").fields == ()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"a": {"path": "a", "type": "money"}}, r"a: unknown keys \['type'\]"),
        ({"a": {"fields": {}}}, "a: expected an XSD name or a mapping with `path`"),
        ({"a": 3}, "a: expected an XSD name"),
        (["a"], "`fields` must be a mapping"),
    ],
)
def test_a_malformed_spec_is_refused_naming_the_field(fields: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        json_message_spec(_spec(fields), name="v/p", contract="v", where="v/p.yaml")


def test_a_spec_file_under_services_is_named_after_its_service(tmp_path: Path) -> None:
    path = tmp_path / "services" / "vat" / "checkVat.input.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(
        "element: checkVat\nnamespace: urn:vat\nmodel: json\nfields:\n  cc: countryCode\n"
    )
    spec = load_message_spec(path, tmp_path / "services")
    assert (spec.name, spec.contract, spec.fields) == (
        "vat/checkVat.input",
        "vat",
        (FieldSpec(("cc",), "countryCode"),),
    )
