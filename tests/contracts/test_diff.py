"""`diff_contracts` judges each change for the client and the server: every pair of WSDLs
under tests/data/contracts/diff/ (base.wsdl and a copy with one edit) compared both ways,
and the rules the module documents held to the ones it applies."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from bridge.contracts import diff as diff_module
from bridge.contracts.diff import (
    ARRAY_FORM_RULE,
    CONTRACT_RULES,
    MESSAGE_RULES,
    Change,
    diff_contracts,
)
from bridge.contracts.loader import load_contract
from bridge.contracts.model import Contract

DIFF = Path(__file__).resolve().parents[1] / "data" / "contracts" / "diff"

Row = tuple[str, str, str, str]  # kind, path, client, server


@cache
def contract(name: str) -> Contract:
    return load_contract(DIFF / f"{name}.wsdl", name=name.replace("_", "-")[:40])


def rows(changes: list[Change]) -> list[Row]:
    return [(change.kind, change.path, change.client, change.server) for change in changes]


# Each variant of base.wsdl: the changes from base to it, then from it back to base.
PAIRS: dict[str, tuple[list[Row], list[Row]]] = {
    "element_removed": (
        [("element-removed", "checkVat/input/requestDate", "breaking", "breaking")],
        [("element-added-optional", "checkVat/input/requestDate", "none", "strict")],
    ),
    "element_added_required": (
        [("element-added-required", "checkVat/input/traderName", "breaking", "strict")],
        [("element-removed", "checkVat/input/traderName", "breaking", "breaking")],
    ),
    "element_required": (
        [("element-required", "checkVat/input/requestDate", "breaking", "none")],
        [("element-optional", "checkVat/input/requestDate", "none", "breaking")],
    ),
    "element_optional": (
        [("element-optional", "checkVat/output/valid", "breaking", "none")],
        [("element-required", "checkVat/output/valid", "none", "breaking")],
    ),
    "min_occurs_raised": (
        [("min-occurs-raised", "checkVat/input/address/line", "breaking", "none")],
        [("min-occurs-lowered", "checkVat/input/address/line", "none", "strict")],
    ),
    "max_occurs_lowered": (
        [("max-occurs-lowered", "checkVat/input/address/line", "breaking", "none")],
        [("max-occurs-raised", "checkVat/input/address/line", "none", "strict")],
    ),
    "max_occurs_one": (
        [("max-occurs-lowered", "checkVat/input/address/line", "breaking", "breaking")],
        [("max-occurs-raised", "checkVat/input/address/line", "breaking", "breaking")],
    ),
    "nillable_removed": (
        [("nillable-removed", "checkVat/output/name", "none", "breaking")],
        [("nillable-added", "checkVat/output/name", "breaking", "none")],
    ),
    "max_length_lowered": (
        [("type-narrowed", "checkVat/input/vatNumber", "breaking", "none")],
        [("type-widened", "checkVat/input/vatNumber", "none", "strict")],
    ),
    "pattern_added": (
        [("type-narrowed", "checkVat/input/vatNumber", "breaking", "none")],
        [("type-widened", "checkVat/input/vatNumber", "none", "strict")],
    ),
    "pattern_changed": (
        [("type-changed", "checkVat/input/countryCode", "breaking", "breaking")],
        [("type-changed", "checkVat/input/countryCode", "breaking", "breaking")],
    ),
    "range_narrowed": (
        [("type-narrowed", "checkVat/input/amount", "breaking", "none")],
        [("type-widened", "checkVat/input/amount", "none", "strict")],
    ),
    "total_digits_lowered": (
        [("type-narrowed", "checkVat/input/amount", "breaking", "none")],
        [("type-widened", "checkVat/input/amount", "none", "strict")],
    ),
    "builtin_narrowed": (
        [("type-narrowed", "checkVat/input/count", "breaking", "none")],
        [("type-widened", "checkVat/input/count", "none", "strict")],
    ),
    "builtin_changed": (
        [("type-changed", "checkVat/input/count", "breaking", "breaking")],
        [("type-changed", "checkVat/input/count", "breaking", "breaking")],
    ),
    "enum_value_removed": (
        [("enum-value-removed", "checkVat/input/channel", "breaking", "none")],
        [("enum-value-added", "checkVat/input/channel", "none", "strict")],
    ),
    "enum_value_added": (
        [("enum-value-added", "checkVat/output/status", "strict", "none")],
        [("enum-value-removed", "checkVat/output/status", "none", "breaking")],
    ),
    "attribute_removed": (
        [("attribute-removed", "checkVat/input/@ref", "breaking", "breaking")],
        [("attribute-added-optional", "checkVat/input/@ref", "none", "strict")],
    ),
    "attribute_added_required": (
        [("attribute-added-required", "checkVat/input/@lang", "breaking", "strict")],
        [("attribute-removed", "checkVat/input/@lang", "breaking", "breaking")],
    ),
    "attribute_required": (
        [("attribute-required", "checkVat/input/@ref", "breaking", "none")],
        [("attribute-optional", "checkVat/input/@ref", "none", "breaking")],
    ),
    "wildcard_added": (
        [("wildcard-added", "checkVat/input", "none", "strict")],
        [("wildcard-removed", "checkVat/input", "breaking", "none")],
    ),
    "order_changed": (
        [("order-changed", "checkVat/input", "breaking", "breaking")],
        [("order-changed", "checkVat/input", "breaking", "breaking")],
    ),
    "content_model_changed": (
        [
            ("content-model-changed", "checkVat/input", "breaking", "breaking"),
            ("element-optional", "checkVat/input/countryCode", "none", "breaking"),
            ("element-optional", "checkVat/input/vatNumber", "none", "breaking"),
        ],
        [
            ("content-model-changed", "checkVat/input", "breaking", "breaking"),
            ("element-required", "checkVat/input/countryCode", "breaking", "none"),
            ("element-required", "checkVat/input/vatNumber", "breaking", "none"),
        ],
    ),
    "message_element_changed": (
        [("message-element-changed", "ping/input", "breaking", "breaking")],
        [("message-element-changed", "ping/input", "breaking", "breaking")],
    ),
    "operation_removed": (
        [("operation-removed", "ping", "breaking", "none")],
        [("operation-added", "ping", "none", "none")],
    ),
    "namespace_changed": (
        [("namespace-changed", "wsdl:definitions/@targetNamespace", "breaking", "breaking")],
        [("namespace-changed", "wsdl:definitions/@targetNamespace", "breaking", "breaking")],
    ),
    "soap_action_changed": (
        [("soap-action-changed", "checkVat", "breaking", "breaking")],
        [("soap-action-changed", "checkVat", "breaking", "breaking")],
    ),
    "soap_version_changed": (
        [
            ("soap-version-changed", "checkVat", "breaking", "breaking"),
            ("soap-version-changed", "ping", "breaking", "breaking"),
        ],
        [
            ("soap-version-changed", "checkVat", "breaking", "breaking"),
            ("soap-version-changed", "ping", "breaking", "breaking"),
        ],
    ),
    "binding_style_changed": (
        [
            ("namespace-changed", "ping/input/echo", "breaking", "breaking"),
            ("binding-style-changed", "ping", "breaking", "breaking"),
            ("element-required", "ping/input/echo", "breaking", "none"),
            ("type-narrowed", "ping/input/echo", "breaking", "none"),
            ("type-narrowed", "ping/input/echo", "breaking", "none"),
            ("element-required", "ping/output/echo", "none", "breaking"),
            ("type-narrowed", "ping/output/echo", "none", "breaking"),
            ("type-narrowed", "ping/output/echo", "none", "breaking"),
            ("element-required", "ping/output/tree", "none", "breaking"),
        ],
        [
            ("namespace-changed", "ping/input/echo", "breaking", "breaking"),
            ("binding-style-changed", "ping", "breaking", "breaking"),
            ("element-optional", "ping/input/echo", "none", "breaking"),
            ("type-widened", "ping/input/echo", "none", "strict"),
            ("type-widened", "ping/input/echo", "none", "strict"),
            ("element-optional", "ping/output/echo", "breaking", "none"),
            ("type-widened", "ping/output/echo", "strict", "none"),
            ("type-widened", "ping/output/echo", "strict", "none"),
            ("element-optional", "ping/output/tree", "breaking", "none"),
        ],
    ),
    "output_removed": (
        [("output-removed", "ping/output", "breaking", "breaking")],
        [("output-added", "ping/output", "breaking", "breaking")],
    ),
    "fault_removed": (
        [("fault-removed", "checkVat/fault:InvalidInput", "none", "breaking")],
        [("fault-added", "checkVat/fault:InvalidInput", "strict", "none")],
    ),
    "fault_detail_added": (
        [("element-added-optional", "checkVat/fault:InvalidInput/field", "strict", "none")],
        [("element-removed", "checkVat/fault:InvalidInput/field", "breaking", "breaking")],
    ),
    "header_added": (
        [("header-added", "checkVat/header:trace", "breaking", "strict")],
        [("header-removed", "checkVat/header:trace", "breaking", "breaking")],
    ),
    "recursive_type_narrowed": (
        [("type-narrowed", "ping/output/tree/label", "none", "breaking")],
        [("type-widened", "ping/output/tree/label", "strict", "none")],
    ),
    "element_added_optional": (
        [("element-added-optional", "checkVat/input/traderName", "none", "strict")],
        [("element-removed", "checkVat/input/traderName", "breaking", "breaking")],
    ),
}


def test_every_variant_in_the_folder_has_its_expected_changes() -> None:
    others = {"base", "hostile_dtd", "header_narrowed"}
    variants = {path.stem for path in DIFF.glob("*.wsdl")} - others
    assert variants == PAIRS.keys()


@pytest.mark.parametrize("variant", sorted(PAIRS))
def test_one_edit_is_found_and_judged_both_ways(variant: str) -> None:
    forward, backward = PAIRS[variant]
    assert rows(diff_contracts(contract("base"), contract(variant))) == forward
    assert rows(diff_contracts(contract(variant), contract("base"))) == backward


def test_a_contract_compared_with_itself_has_no_changes() -> None:
    assert diff_contracts(contract("base"), contract("base")) == []


def test_a_change_says_what_it_compared() -> None:
    (change,) = diff_contracts(contract("base"), contract("max_occurs_one"))
    assert (change.old, change.new) == ("3", "1")
    assert change.detail == "maxOccurs 3 -> 1 (in JSON an array becomes a single value)"
    assert (change.operation, change.message) == ("checkVat", "input")


def test_each_removed_enumeration_value_is_its_own_change() -> None:
    (change,) = diff_contracts(contract("base"), contract("enum_value_removed"))
    assert (change.old, change.new, change.detail) == ("API", None, "value 'API' removed")


def test_a_soap_header_is_compared_as_a_message_the_client_sends() -> None:
    changes = diff_contracts(contract("header_added"), contract("header_narrowed"))
    assert rows(changes) == [("type-narrowed", "checkVat/header:trace", "breaking", "none")]
    assert changes[0].message == "header:trace"


def test_a_removed_operation_is_not_taken_for_a_rename() -> None:
    (change,) = diff_contracts(contract("base"), contract("operation_removed"))
    assert "renames are not guessed" in change.detail


def _docstring_table(after: str) -> dict[str, tuple[str, str, str]]:
    doc = diff_module.__doc__ or ""
    block = doc.split(after, 1)[1].split("\n\n", 2)[1]
    table = {}
    for line in block.splitlines()[2:]:
        kind, first, second, why = (cell.strip() for cell in line.strip("|").split("|"))
        table[kind] = (first, second, why)
    return table


def test_the_rule_tables_of_the_docstring_are_the_rules_applied() -> None:
    applied = {
        rule.kind: (rule.first, rule.second, rule.why)
        for rule in [*MESSAGE_RULES.values(), ARRAY_FORM_RULE]
    }
    assert _docstring_table("Changes inside a message") == applied
    contract_rules = {
        rule.kind: (rule.first, rule.second, rule.why) for rule in CONTRACT_RULES.values()
    }
    assert _docstring_table("Changes of the contract or of an operation") == contract_rules


def test_every_rule_has_a_pair_of_fixtures_that_shows_it() -> None:
    seen = {row[0] for forward, backward in PAIRS.values() for row in forward + backward}
    assert seen == MESSAGE_RULES.keys() | CONTRACT_RULES.keys()


ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "wsdl-corpus"
OWN = sorted((ROOT / "wsdl").rglob("*.wsdl"))


def corpus_contracts() -> list[Path]:
    """The corpus contracts the loader serves (it refuses SOAP encoding and HTTP-only
    bindings, whose diff is therefore an exit 2)."""
    return [
        CORPUS / name
        for name in ("dotnet/calculator.wsdl", "vies/checkVatService.wsdl", "zeep/soap.wsdl")
    ]


@pytest.mark.parametrize("wsdl", OWN, ids=lambda path: path.name)
def test_each_of_the_projects_contracts_compared_with_itself_has_no_changes(wsdl: Path) -> None:
    assert diff_contracts(load_contract(wsdl, name="old"), load_contract(wsdl, name="new")) == []


@pytest.mark.parametrize("wsdl", corpus_contracts(), ids=lambda path: path.parent.name)
def test_each_corpus_contract_compared_with_itself_has_no_changes(wsdl: Path) -> None:
    if not wsdl.exists():
        pytest.skip(f"the shared corpus is not here ({CORPUS})")
    assert diff_contracts(load_contract(wsdl, name="old"), load_contract(wsdl, name="new")) == []
