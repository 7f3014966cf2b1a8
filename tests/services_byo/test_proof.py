"""The proof of issue 13, over every contract (tests.common.proof): the import fixtures that
import, the VAT service in SOAP 1.1 and 1.2, the bridge's own six contracts and the shared
corpus when it is there. Each is imported into one bridge with its generated simulator as its
upstream; for each:

1. its part of the OpenAPI document (its operations, and the components they reference) is
   valid OpenAPI, and so is the whole document;
2. JSON drawn from the XSD (tests/strategies/xsd.py) for every message of every operation is
   written as XML valid against the XSD and reads back as the same JSON, through the codecs the
   bridge serves with (compiled from the mapping specs the import wrote), and fits the JSON
   Schema the OpenAPI document gives the message;
3. schemathesis, every check, against its REST operations finds no failure;
4. zeep and suds call its SOAP pass-through and get the simulator's answer: the reply's Body
   child is the simulator's sample for the seed it answered with, and each client reads the
   live reply as it reads that sample.

What cannot pass today is listed in `KNOWN`, each with its reason and who decides it (a client
library's reading of the WSDL, a contract no server can route, a JSON form its JSON Schema
cannot state exactly); any other failure fails its case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from lxml import etree
from openapi_spec_validator import validate
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from bridge.contracts.catalog import message_root
from bridge.contracts.messages import decode_from_wire
from bridge.contracts.model import Operation
from bridge.mapping.generic import MessageCodec
from bridge.mapping.samples import sample
from bridge.services.imported import Service
from bridge.sims.control import SimControl
from bridge.upstream.transport import VERSIONS
from tests.common.live import LiveBridge, serve_bridge
from tests.common.proof import ProofContract, import_every_contract, proof_contracts
from tests.common.schemathesis_report import describe, error
from tests.common.soap_clients import (
    suds_call,
    suds_client,
    suds_reading,
    zeep_call,
    zeep_client,
    zeep_reading,
)
from tests.credentials import Credentials, grant
from tests.strategies.xsd import message

CONTRACTS = proof_contracts()
IDS = [contract.id for contract in CONTRACTS]
SEED = 20261204
EXAMPLES = 3  # schemathesis examples per operation and phase
# Accepted for schema-valid requests: a declared fault (422) or the simulator's injected or
# generated trouble (5xx) are the contract's answers, not the door's mistakes.
ACCEPTED = ["2xx", "401", "403", "404", "422", "429", "5xx"]
# (check, contract id, operation) -> why that check cannot pass on that operation, and who
# decides it. A check is "zeep", "suds" or "schemathesis <its check>". Delete an entry once its
# cause is gone.
_AMBIGUOUS = (
    "the contract binds two operations to the same input element and the same SOAPAction, so "
    "no server can tell them apart on the wire (WS-I Basic Profile R2710): the simulator and the "
    "pass-through take the first, GetLastTradePrice, and a reply comes back to the one-way "
    "GetLastTradePriceNoOutput. The import could refuse or warn: the lead's decision"
)
_SUDS_HEADERS = (
    "suds reads `<soap:body>` without `parts` literally (WSDL 1.1 section 3.5: every part of "
    "the message goes in the Body), so it writes the parts bound to `<soap:header>` into the "
    "Body as well; zeep and the bridge leave them out"
)
KNOWN: dict[tuple[str, str, str], str] = {
    ("zeep", "corpus/zeep/soap.wsdl", "GetLastTradePriceNoOutput"): _AMBIGUOUS,
    ("suds", "corpus/zeep/soap.wsdl", "GetLastTradePriceNoOutput"): _AMBIGUOUS,
    ("schemathesis not_a_server_error", "corpus/zeep/soap.wsdl", "GetLastTradePriceNoOutput"): (
        _AMBIGUOUS
    ),
    ("schemathesis positive_data_acceptance", "byo/arrays/orders.wsdl", "SubmitOrder"): (
        "a repeated sequence (tagKey, tagValue)* is two JSON arrays, and JSON Schema cannot say "
        "that they have the same length: the codec refuses unequal ones with a 400 naming the "
        "field. An array of objects for a repeated group would be exact: H7's and the lead's call"
    ),
    ("zeep", "byo/rpc_builtin_parts/greeter.wsdl", "round"): (
        "an RPC `<soap:body>` without `namespace` (which WS-I Basic Profile R2717 requires): "
        "zeep writes the wrapper `round` unqualified, the bridge (like suds) qualifies it with "
        "the WSDL's targetNamespace, and refuses zeep's. Accepting both is the lead's decision"
    ),
    ("suds", "byo/header/accounts.wsdl", "GetBalance"): _SUDS_HEADERS,
    ("suds", "corpus/zeep/soap_header.wsdl", "GetLastTradePrice"): _SUDS_HEADERS,
    ("suds", "byo/arrays/orders.wsdl", "SubmitOrder"): (
        "suds keeps one list per element name, so a repeated sequence (tagKey, tagValue)+ is "
        "written as every tagKey, then every tagValue: not the contract's order"
    ),
}


@dataclass(frozen=True)
class Proof:
    live: LiveBridge
    document: dict[str, Any]
    refusals: dict[str, str]


@pytest.fixture(scope="module")
def proof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proof]:
    root = tmp_path_factory.mktemp("proof")
    contracts_dir, mappings_dir, refusals = import_every_contract(CONTRACTS, root)
    with serve_bridge(
        default_credentials=False,
        contracts_dir=contracts_dir,
        mappings_dir=mappings_dir,
        database_url=f"sqlite:///{root / 'bridge.db'}",
        # schemathesis's own calls with bad credentials (the `ignored_auth` check)
        auth_failure_limit=10_000,
        auth_failure_source_limit=100_000,
    ) as live:
        document = requests.get(f"{live.url}/api/openapi.json", timeout=30).json()
        yield Proof(live, document, refusals)


def served(proof: Proof, contract: ProofContract) -> Service:
    contract.skip_if_absent()
    if contract.id in proof.refusals:
        pytest.fail(f"the import refused {contract.wsdl}: {proof.refusals[contract.id]}")
    return proof.live.bridge.imported.service(contract.service)


def caller(proof: Proof, service: Service) -> Credentials:
    """A partner's client holding every scope of the service."""
    scopes = {service.scope(operation) for operation in service.imported.contract.operations}
    return grant(proof.live.bridge.engine, tier="partner", scopes=scopes, name=service.name)


# -- 1. the OpenAPI document ---------------------------------------------------------------------


def test_the_whole_document_with_every_contract_imported_is_valid_openapi(proof: Proof) -> None:
    validate(proof.document)


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_the_contracts_part_of_the_openapi_document_is_valid(
    proof: Proof, contract: ProofContract
) -> None:
    service = served(proof, contract)
    prefix = f"/api/v1/services/{service.name}/"
    paths = {
        path: item for path, item in proof.document["paths"].items() if path.startswith(prefix)
    }

    assert set(paths) == {prefix + operation for operation in service.imported.contract.operations}
    validate(_with_components(proof.document, paths))


def _with_components(document: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """The document reduced to `paths` and the components they reference, transitively."""
    components = document["components"]
    kept: dict[str, dict[str, Any]] = {"securitySchemes": components["securitySchemes"]}
    pending = [paths]
    while pending:
        for reference in _references(pending.pop()):
            kind, name = reference.removeprefix("#/components/").split("/", 1)
            if name not in kept.setdefault(kind, {}):
                kept[kind][name] = components[kind][name]
                pending.append(components[kind][name])
    return {**document, "paths": paths, "components": kept}


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        reference = value.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/components/"):
            yield reference
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


# -- 2. JSON -> XML -> JSON ----------------------------------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_json_drawn_from_the_xsd_round_trips_through_xml_valid_against_the_xsd(
    proof: Proof, contract: ProofContract, data: st.DataObject
) -> None:
    service = served(proof, contract)
    contract_ = service.imported.contract
    for (operation, kind), codec in service.imported.codecs.items():
        root, _ = message_root(contract_, contract_.operations[operation], kind)
        value = data.draw(message(root), label=f"{operation}.{kind}")

        written = codec.write(value)

        assert contract_.schema.validator.violation(written) is None, (operation, kind)
        assert codec.read(written) == value, (operation, kind)
        assert list(_json_schema(codec).iter_errors(value)) == [], (operation, kind)


@cache
def _json_schema(codec: MessageCodec) -> Draft202012Validator:
    """The JSON Schema the OpenAPI document gives the message, as a validator."""
    return Draft202012Validator(codec.json_schema())


# -- 3. schemathesis -----------------------------------------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_schemathesis_finds_no_failure_in_the_contracts_rest_operations(
    proof: Proof, contract: ProofContract
) -> None:
    service = served(proof, contract)
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "auth": {"openapi": {"apiKey": {"api_key": caller(proof, service).api_key}}},
            "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "suppress-health-check": ["filter_too_much", "too_slow", "data_too_large"],
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        }
    )
    schema = schemathesis.openapi.from_url(
        f"{proof.live.url}/api/openapi.json", config=config
    ).include(path_regex=f"^/api/v1/services/{service.name}/")
    failures: list[str] = []
    tested: set[str] = set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.label:
                tested.add(event.label)
            for case_id, checks in event.recorder.checks.items():
                failures += [
                    f"{event.label}: {check.name}: {describe(check, event.recorder, case_id)}"
                    for check in checks
                    if check.status != Status.SUCCESS
                    and not _known(contract, event.label, check.name)
                ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {getattr(event, 'label', '')} {error(event)}")

    assert not failures, "\n".join(sorted(set(failures)))
    assert tested >= {
        f"POST /api/v1/services/{service.name}/{operation}"
        for operation in service.imported.contract.operations
    }


def _known(contract: ProofContract, label: str | None, check: str) -> bool:
    operation = (label or "").rsplit("/", 1)[-1]
    return (f"schemathesis {check}", contract.id, operation) in KNOWN


# -- 4. zeep and suds through the SOAP pass-through ----------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_zeep_calls_the_pass_through_and_gets_the_simulators_answer(
    proof: Proof, contract: ProofContract
) -> None:
    service = served(proof, contract)
    client, history = zeep_client(
        f"{proof.live.url}/soap/services/{service.name}?wsdl", caller(proof, service).headers
    )
    for name, operation in _callable(service, "zeep", contract):
        request = sample(message_root(service.imported.contract, operation, "input")[0], 1)
        _simulator(proof, service).reset()

        answer = zeep_call(client, name, request)

        expected = _simulators_answer(proof, service, operation)
        if expected is None:
            assert answer is None, name
            continue
        received = history.last_received["envelope"]
        _assert_the_same_reply(service, operation, _body_child(received), expected)
        assert answer == zeep_reading(client, name, _envelope(service, expected)), name


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_suds_calls_the_pass_through_and_gets_the_simulators_answer(
    proof: Proof, contract: ProofContract
) -> None:
    service = served(proof, contract)
    if service.imported.contract.port.soap_version != "1.1":
        pytest.skip("suds speaks SOAP 1.1 only")
    client, received = suds_client(
        f"{proof.live.url}/soap/services/{service.name}?wsdl", caller(proof, service).headers
    )
    for name, operation in _callable(service, "suds", contract):
        request = sample(message_root(service.imported.contract, operation, "input")[0], 1)
        _simulator(proof, service).reset()

        answer = suds_call(client, name, request, rpc=operation.style == "rpc")

        expected = _simulators_answer(proof, service, operation)
        if expected is None:
            assert answer is None, name
            continue
        _assert_the_same_reply(
            service, operation, _body_child(etree.fromstring(received.reply)), expected
        )
        assert answer == suds_reading(client, name, _envelope(service, expected)), name


def _callable(
    service: Service, client: str, contract: ProofContract
) -> list[tuple[str, Operation]]:
    """The operations `client` is expected to call (all but those `KNOWN` says it cannot)."""
    return [
        (name, operation)
        for name, operation in service.imported.contract.operations.items()
        if (client, contract.id, name) not in KNOWN
    ]


def _simulator(proof: Proof, service: Service) -> SimControl:
    server = proof.live.bridge.upstreams.simulators
    assert server is not None
    control: SimControl = server.apps[f"/sims/services/{service.name}"].control
    return control


def _simulators_answer(proof: Proof, service: Service, operation: Operation) -> Any:
    """The sample the simulator answered the call with (None for a one-way operation): its
    output element for the seed the call recorded. The one call since the simulator was reset."""
    calls = _simulator(proof, service).calls()
    assert [call["operation"] for call in calls] == [operation.name], calls
    if operation.output is None:
        return None
    summary = calls[0]["summary"]
    assert summary["outcome"] == "answered", summary
    root, _ = message_root(service.imported.contract, operation, "output")
    return sample(root, int(summary["seed"]))


def _assert_the_same_reply(
    service: Service, operation: Operation, received: Any, expected: Any
) -> None:
    """The reply's Body child carries the simulator's answer: the same JSON for the output's
    codec (prefixes and namespace declarations may differ on the way)."""
    assert operation.output is not None
    if operation.output.use == "encoded":
        received = decode_from_wire(received)
    codec = service.codec(operation.name, "output")
    assert codec.read(received) == codec.read(expected), operation.name


def _body_child(envelope: Any) -> Any:
    body = next(child for child in envelope if etree.QName(child).localname == "Body")
    return body[0]


def _envelope(service: Service, element: Any) -> bytes:
    version = VERSIONS[service.imported.contract.port.soap_version]
    envelope: bytes = version.envelope_of(etree.tostring(element, encoding="UTF-8"))
    return envelope
