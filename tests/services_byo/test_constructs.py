"""Every construct of the import fixtures (tests/data/contracts/byo/), served with no code
written: each operation called over REST with a sample of its input answers 200 from the
generated simulator, and zeep reads the pass-through's WSDL (imports included) and calls it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from zeep.transports import Transport

from bridge.contracts.importer import import_contract
from bridge.contracts.messages import body_element
from bridge.mapping.samples import sample
from bridge.settings import ROOT
from tests.common.live import LiveBridge, serve_bridge
from tests.credentials import Credentials, grant

BYO = Path(__file__).resolve().parents[1] / "data" / "contracts" / "byo"
# What the bridge serves (multipart document messages, rpc/encoded arrays, WSDL 2.0 and the hostile
# and invalid contracts are refused at import, by tests/contracts).
CONSTRUCTS = (
    "arrays",
    "attributes",
    "choice",
    "dates",
    "decimals",
    "default_namespace",
    "enumerations",
    "extension",
    "faults",
    "header",
    "imports",
    "nillable",
    "patterns",
    "rpc_builtin_parts",
    "rpc_encoded",
    "rpc_literal",
    "several_ports",
    "simple_content",
    "soap12",
)


def service_name(construct: str) -> str:
    return construct.replace("_", "-")


@pytest.fixture(scope="module")
def constructs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    root = tmp_path_factory.mktemp("constructs")
    contracts, mappings = root / "wsdl", root / "mappings"
    shutil.copytree(ROOT / "wsdl", contracts)
    shutil.copytree(ROOT / "mappings", mappings)
    for construct in CONSTRUCTS:
        (wsdl,) = (BYO / construct).glob("*.wsdl")
        import_contract(
            wsdl, name=service_name(construct), contracts_dir=contracts, mappings_dir=mappings
        )
    with serve_bridge(
        default_credentials=False,
        contracts_dir=contracts,
        mappings_dir=mappings,
        database_url=f"sqlite:///{root / 'bridge.db'}",
    ) as live:
        yield live


@pytest.fixture(scope="module")
def everyone(constructs: LiveBridge) -> Credentials:
    scopes = {f"{service_name(construct)}:call" for construct in CONSTRUCTS}
    return grant(constructs.bridge.engine, tier="partner", scopes=scopes)


def sample_input(live: LiveBridge, service: str, operation: str, seed: int) -> Any:
    imported = live.bridge.imported.service(service)
    contract = imported.imported.contract
    element = body_element(contract, contract.operations[operation].input)
    return imported.codec(operation, "input").read(sample(element, seed))


@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_every_operation_answers_a_sample_of_its_input_over_rest(
    constructs: LiveBridge, everyone: Credentials, construct: str
) -> None:
    service = constructs.bridge.imported.service(service_name(construct))
    for operation in service.imported.contract.operations:
        for seed in (1, 2):
            body = sample_input(constructs, service.name, operation, seed)
            answer = requests.post(
                f"{constructs.url}/api/v1/services/{service.name}/{operation}",
                data=json.dumps(body, default=str),
                headers={"Content-Type": "application/json", **everyone.headers},
                timeout=30,
            )

            assert answer.status_code in (200, 204), (operation, seed, answer.text)


@pytest.mark.parametrize("construct", ["imports", "rpc_encoded", "rpc_literal", "soap12"])
def test_zeep_reads_the_served_wsdl_and_calls_the_pass_through(
    constructs: LiveBridge, everyone: Credentials, construct: str
) -> None:
    """zeep resolves the WSDL's imports through `?xsd=`, finds our address, and its call (the
    sample input, whose JSON form is zeep's keyword form for these messages) is answered."""
    session = requests.Session()
    session.headers.update(everyone.headers)
    name = service_name(construct)
    client = zeep.Client(
        f"{constructs.url}/soap/services/{name}?wsdl",
        transport=Transport(session=session, timeout=30),
        # A partner loads our WSDL and its imports from us: external (HTTP) references allowed.
        settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=False),
    )
    service = constructs.bridge.imported.service(name)
    operation = next(iter(service.imported.contract.operations))

    answer = getattr(client.service, operation)(**sample_input(constructs, name, operation, 5))

    assert answer is not None
    (port,) = [port for svc in client.wsdl.services.values() for port in svc.ports.values()]
    assert port.binding_options["address"] == f"{constructs.url}/soap/services/{name}"
