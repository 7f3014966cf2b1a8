"""`import_contract` / `remove_contract`: the plain files an import writes, and when it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bridge.contracts.catalog import Catalog
from bridge.contracts.config import ServiceConfig
from bridge.contracts.importer import import_contract, remove_contract
from bridge.domain.errors import ConfigurationError, NotFound
from tests.common.contracts import PROJECT_CONTRACTS, byo, corpus_wsdls
from tests.common.proof import BYO_SERVED


class Dirs:
    def __init__(self, root: Path) -> None:
        self.contracts = root / "wsdl"
        self.mappings = root / "mappings"

    def service(self, name: str) -> Path:
        return self.contracts / "services" / name

    def specs(self, name: str) -> Path:
        return self.mappings / "services" / name

    def import_(self, source: Path, name: str, **options: object) -> object:
        return import_contract(
            source,
            name=name,
            contracts_dir=self.contracts,
            mappings_dir=self.mappings,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    return Dirs(tmp_path)


def test_import_copies_the_contract_with_its_layout_and_writes_the_import_file(
    dirs: Dirs,
) -> None:
    dirs.import_(byo("imports/orders.wsdl"), "orders")

    copied = sorted(
        p.relative_to(dirs.service("orders")).as_posix()
        for p in dirs.service("orders").rglob("*")
        if p.is_file()
    )
    assert copied == [
        "abstract/orders-abstract.wsdl",
        "orders.wsdl",
        "schemas/common/types.xsd",
        "schemas/orders.xsd",
        "schemas/party/party.xsd",
        "service.yaml",
    ]
    config = ServiceConfig.read(dirs.service("orders") / "service.yaml")
    assert (config.name, config.wsdl, config.port) == ("orders", "orders.wsdl", "OrdersPort")
    assert (config.upstream, config.scope, config.simulated) == ("simulator", "orders:call", True)
    assert config.policy("PlaceOrder").safe is False


def test_import_writes_one_identity_spec_per_message_fault_included(dirs: Dirs) -> None:
    dirs.import_(byo("faults/transfers.wsdl"), "transfers")

    assert sorted(p.name for p in dirs.specs("transfers").iterdir()) == [
        "TransferMoney.fault.AccountBlocked.yaml",
        "TransferMoney.fault.InsufficientFunds.yaml",
        "TransferMoney.input.yaml",
        "TransferMoney.output.yaml",
    ]
    spec = yaml.safe_load((dirs.specs("transfers") / "TransferMoney.input.yaml").read_text())
    assert spec["element"] == "TransferMoney"
    assert spec["namespace"] == "urn:byo:faults"
    assert spec["model"] == "json"
    assert spec["fields"] == {"from": "from", "to": "to", "amount": "amount"}


def test_safe_operations_upstream_and_port_are_written_as_given(dirs: Dirs) -> None:
    dirs.import_(
        byo("soap12/weather.wsdl"),
        "weather",
        upstream="https://legacy.example/weather",
        port="WeatherSoap12",
        safe=["GetForecast"],
    )

    config = ServiceConfig.read(dirs.service("weather") / "service.yaml")
    assert config.upstream == "https://legacy.example/weather"
    assert config.port == "WeatherSoap12"
    assert config.policy("GetForecast").safe is True
    assert config.retries_of("GetForecast") == config.retries


def test_an_unknown_safe_operation_is_refused_and_nothing_is_written(dirs: Dirs) -> None:
    with pytest.raises(ConfigurationError, match="--safe Nope: the contract has no such"):
        dirs.import_(byo("choice/billing.wsdl"), "billing", safe=["Nope"])

    assert not dirs.contracts.exists() or not any(dirs.contracts.rglob("*.wsdl"))


def test_an_upstream_that_is_not_http_is_refused(dirs: Dirs) -> None:
    with pytest.raises(ConfigurationError, match="an http\\(s\\) URL, got 'ftp://x'"):
        dirs.import_(byo("choice/billing.wsdl"), "billing", upstream="ftp://x")


@pytest.mark.parametrize("name", ["Vat", "1vat", "vat service", "v" * 41, "../etc", ""])
def test_a_bad_name_is_refused(dirs: Dirs, name: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a service name"):
        dirs.import_(byo("choice/billing.wsdl"), name)


def test_an_existing_name_is_replaced_only_with_force(dirs: Dirs) -> None:
    dirs.import_(byo("choice/billing.wsdl"), "svc")

    with pytest.raises(ConfigurationError, match="a contract named svc is imported already"):
        dirs.import_(byo("patterns/vat.wsdl"), "svc")
    dirs.import_(byo("patterns/vat.wsdl"), "svc", force=True)

    assert sorted(p.name for p in dirs.service("svc").iterdir()) == ["service.yaml", "vat.wsdl"]
    assert sorted(p.name for p in dirs.specs("svc").iterdir()) == [
        "ValidateVat.input.yaml",
        "ValidateVat.output.yaml",
    ]


def test_a_refused_contract_leaves_what_was_imported_untouched(dirs: Dirs) -> None:
    dirs.import_(byo("choice/billing.wsdl"), "svc")
    before = (dirs.service("svc") / "service.yaml").read_text()

    with pytest.raises(ConfigurationError):
        dirs.import_(byo("hostile_remote_import/remote.wsdl"), "svc", force=True)

    assert (dirs.service("svc") / "service.yaml").read_text() == before
    assert sorted(p.name for p in (dirs.contracts / "services").iterdir()) == ["svc"]


def test_remove_deletes_contract_and_specs(dirs: Dirs) -> None:
    dirs.import_(byo("choice/billing.wsdl"), "billing")

    remove_contract("billing", dirs.contracts, dirs.mappings)

    assert not dirs.service("billing").exists()
    assert not dirs.specs("billing").exists()
    with pytest.raises(NotFound, match="no imported contract named 'billing'"):
        remove_contract("billing", dirs.contracts, dirs.mappings)


def test_every_fixture_the_bridge_serves_imports_and_the_catalog_loads_them(dirs: Dirs) -> None:
    served = BYO_SERVED
    names = [relative.split("/")[0].replace("_", "-") for relative in served]
    for relative, name in zip(served, names, strict=True):
        dirs.import_(byo(relative), name)

    catalog = Catalog.load(dirs.contracts, dirs.mappings)

    assert catalog.names() == sorted(names)
    assert f"{names[0]}:call" in catalog.scopes()
    quotes = catalog["rpc-literal"]
    assert set(quotes.codecs) == {
        ("GetQuote", "input"),
        ("GetQuote", "output"),
        ("Ping", "input"),
        ("Ping", "output"),
    }


def test_the_project_own_six_contracts_import(dirs: Dirs) -> None:
    wsdls = sorted([*PROJECT_CONTRACTS.glob("*.wsdl"), *PROJECT_CONTRACTS.glob("upstream/*.wsdl")])

    for wsdl in wsdls:
        dirs.import_(wsdl, wsdl.stem)

    catalog = Catalog.load(dirs.contracts, dirs.mappings)
    assert catalog.names() == sorted(w.stem for w in wsdls)
    assert len(catalog.names()) == 6
    assert ("TransferFunds", "ValidationFault") in catalog["banking"].codecs


@pytest.mark.parametrize("wsdl", corpus_wsdls(), ids=lambda path: path.name)
def test_every_corpus_contract_imports(dirs: Dirs, wsdl: Path) -> None:
    dirs.import_(wsdl, "corpus")

    assert Catalog.load(dirs.contracts, dirs.mappings)["corpus"].contract.operations


def test_the_corpus_rpc_encoded_claim_service_imports_as_encoded(dirs: Dirs) -> None:
    claim = next((path for path in corpus_wsdls() if path.name == "claim.wsdl"), None)
    if claim is None:
        pytest.skip("the shared WSDL corpus is absent (a fresh clone)")
    dirs.import_(claim, "claim")

    operation = Catalog.load(dirs.contracts, dirs.mappings)["claim"].contract.operations[
        "GetClaimDetails"
    ]

    assert operation.input.use == "encoded"
    assert operation.input.element == "{http://schemas.risk-stuff.com/soap/}GetClaimDetails"


def test_the_corpus_is_there_or_skipped() -> None:
    if not corpus_wsdls():
        pytest.skip("the shared WSDL corpus is absent (a fresh clone)")
    assert {path.name for path in corpus_wsdls()} >= {"checkVatService.wsdl", "calculator.wsdl"}
    assert "soap_import_2.wsdl" not in {path.name for path in corpus_wsdls()}
