"""The catalog's start-up check: hand-edited files that no longer fit are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.contracts.catalog import Catalog
from bridge.contracts.importer import import_contract
from bridge.domain.errors import ConfigurationError
from tests.common.contracts import byo


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, Path]:
    """`transfers` (faults/transfers.wsdl) imported under tmp_path: (contracts, mappings)."""
    contracts, mappings = tmp_path / "wsdl", tmp_path / "mappings"
    import_contract(
        byo("faults/transfers.wsdl"),
        name="transfers",
        contracts_dir=contracts,
        mappings_dir=mappings,
        safe=["TransferMoney"],
    )
    return contracts, mappings


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _refusal(dirs: tuple[Path, Path]) -> str:
    with pytest.raises(ConfigurationError) as refused:
        Catalog.load(*dirs)
    return refused.value.detail


def test_no_services_folder_is_an_empty_catalog(tmp_path: Path) -> None:
    catalog = Catalog.load(tmp_path / "wsdl", tmp_path / "mappings")

    assert len(catalog) == 0
    assert catalog.scopes() == set()


def test_an_imported_service_has_its_contract_config_and_a_codec_per_message(
    imported: tuple[Path, Path],
) -> None:
    service = Catalog.load(*imported)["transfers"]

    assert service.config.policy("TransferMoney").safe is True
    assert set(service.codecs) == {
        ("TransferMoney", "input"),
        ("TransferMoney", "output"),
        ("TransferMoney", "InsufficientFunds"),
        ("TransferMoney", "AccountBlocked"),
    }
    request = service.codecs[("TransferMoney", "input")].write(
        {"from": "A", "to": "B", "amount": "10.50"}
    )
    assert request.tag == "{urn:byo:faults}TransferMoney"


def test_a_renamed_json_field_is_served_under_its_new_name(imported: tuple[Path, Path]) -> None:
    spec = imported[1] / "services" / "transfers" / "TransferMoney.input.yaml"
    _edit(spec, "  to: to", "  recipient: to")

    codec = Catalog.load(*imported)["transfers"].codecs[("TransferMoney", "input")]

    written = codec.write({"from": "A", "recipient": "B", "amount": "1"})
    assert written.findtext("{urn:byo:faults}to") == "B"


def test_a_spec_path_the_schema_does_not_have_is_refused_naming_file_and_field(
    imported: tuple[Path, Path],
) -> None:
    spec = imported[1] / "services" / "transfers" / "TransferMoney.input.yaml"
    _edit(spec, "amount: amount", "amount: amountInCents")

    detail = _refusal(imported)

    assert detail.startswith(f"{spec}: ")
    assert "field amount" in detail
    assert "amountInCents" in detail


def test_a_spec_that_leaves_out_a_required_element_is_refused(
    imported: tuple[Path, Path],
) -> None:
    spec = imported[1] / "services" / "transfers" / "TransferMoney.input.yaml"
    _edit(spec, "  amount: amount\n", "")

    detail = _refusal(imported)

    assert detail.startswith(f"{spec}: ")
    assert "field amount: required by the contract" in detail


def test_a_missing_spec_is_refused_naming_it(imported: tuple[Path, Path]) -> None:
    spec = imported[1] / "services" / "transfers" / "TransferMoney.output.yaml"
    spec.unlink()

    assert _refusal(imported).startswith(f"{spec}: missing")


def test_a_spec_for_no_message_of_the_contract_is_refused(imported: tuple[Path, Path]) -> None:
    stray = imported[1] / "services" / "transfers" / "Refund.input.yaml"
    stray.write_text("element: Refund\n", encoding="utf-8")

    assert _refusal(imported).startswith(f"{stray}: matches no message of the contract")


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("timeout: 10 ", "timeout: -1 ", "timeout: expected a positive number of seconds"),
        ("scope: transfers:call", "scope: transfers", "scope: 'transfers' is not a scope"),
        ("scope: transfers:call", "scope: banking:write", "must be one of this service's"),
        ("retries: 2", "retries: 2\ncolour: blue", "colour: unknown key"),
        ("{safe: true}", "{safe: true, retry: 3}", "operations.TransferMoney.retry: unknown"),
        ("{safe: true}", "{safe: yes please}", "operations.TransferMoney.safe: expected true"),
        ("tiers: [public", "tiers: [vip", "tiers: unknown tier 'vip'"),
        ("upstream: simulator", "upstream: gopher://x", "upstream: expected `simulator`"),
        ("fail_max: 5", "fail_max: 0", "breaker.fail_max: expected a whole number, 1 or more"),
        ("TransferMoney: {", "Refund: {", "operations.Refund: the contract has no such"),
        ("name: transfers", "name: other", "name: 'other' is not the folder's name"),
        ("wsdl: transfers.wsdl", "wsdl: ../../x.wsdl", "wsdl: '../../x.wsdl' must be a path"),
    ],
)
def test_a_hand_edited_service_yaml_is_refused_naming_the_key(
    imported: tuple[Path, Path], old: str, new: str, named: str
) -> None:
    config = imported[0] / "services" / "transfers" / "service.yaml"
    _edit(config, old, new)

    detail = _refusal(imported)

    assert detail.startswith(f"{config}: ")
    assert named in detail


def test_scopes_are_the_services_and_their_operations(imported: tuple[Path, Path]) -> None:
    config = imported[0] / "services" / "transfers" / "service.yaml"
    _edit(config, "{safe: true}", '{safe: true, scope: "transfers:move"}')

    catalog = Catalog.load(*imported)

    assert catalog.scopes() == {"transfers:call", "transfers:move"}
    assert catalog["transfers"].config.scope_of("TransferMoney") == "transfers:move"


def test_a_contract_that_no_longer_loads_is_refused_at_start_up(
    imported: tuple[Path, Path],
) -> None:
    wsdl = imported[0] / "services" / "transfers" / "transfers.wsdl"
    _edit(wsdl, 'element="tns:TransferMoneyResponse"', 'element="tns:Gone"')

    assert "{urn:byo:faults}Gone, not in the schema" in _refusal(imported)
