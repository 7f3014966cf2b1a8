"""`Settings.contracts_dir` is where every contract is read from, not only by the zeep clients:
the SOAP door serves and enforces the WSDL found there, the REST door's OpenAPI document takes
its facets from it, and the simulators serve their contracts from it.

The proof is a copy of wsdl/ with two marks that the checked-in contracts do not carry: the
banking contract's MsgId is at most 12 characters (35 in wsdl/), and the documentation of
TransferFunds and of core banking's service says `MARK`. A door that read wsdl/ would miss both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, Overrides, create_app
from bridge.mapping.schemas import CONTRACTS_ROOT
from bridge.settings import Settings
from tests.common.banking import FakeCoreBank, ImmediateRetry
from tests.common.rest import assert_problem, load, post_json
from tests.common.soap import read_fault, transfer
from tests.credentials import authorized, grant, simulator_admin

MARK = "Read from the contracts_dir of tests/test_contracts_dir.py"
SHORT_LIMIT = 12
# Valid under the checked-in contract (at most 35 characters), too long for the copy.
LONG_MSG_ID = "PB-CONTRACTS-DIR-0001"
MSG_ID_TYPE = """<xs:simpleType name="MessageIdentification">
        <xs:restriction base="xs:string">
          <xs:minLength value="1"/>
          <xs:maxLength value="35"/>"""
TRANSFER_DOC = (
    "<wsdl:documentation>Initiate a credit transfer; MsgId is the partner's idempotency key, "
    "so a retry never moves money twice.</wsdl:documentation>"
)
COREBANK_DOC = (
    "<wsdl:documentation>Core banking payments service (legacy vocabulary), version 1."
    "</wsdl:documentation>"
)


def marked(path: Path, *replacements: tuple[str, str]) -> None:
    """Replace each text in the file at `path`, which holds each exactly once."""
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, f"{path.name} no longer holds {old!r}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def contracts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("contracts") / "wsdl"
    shutil.copytree(CONTRACTS_ROOT, copy)
    marked(
        copy / "banking.wsdl",
        (MSG_ID_TYPE, MSG_ID_TYPE.replace('"35"', f'"{SHORT_LIMIT}"')),
        (TRANSFER_DOC, f"<wsdl:documentation>{MARK}</wsdl:documentation>"),
    )
    marked(
        copy / "upstream" / "corebank.wsdl",
        (COREBANK_DOC, f"<wsdl:documentation>{MARK}</wsdl:documentation>"),
    )
    return copy


@pytest.fixture(scope="module")
def bridge(contracts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    database = tmp_path_factory.mktemp("db") / "bridge.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        contracts_dir=contracts_dir,
        simulators=True,
        scheduler=False,
    )
    built = create_app(
        settings,
        start_simulators=False,  # mounted for their ?wsdl; nothing here calls them
        overrides=Overrides(
            corebank=FakeCoreBank(),  # type: ignore[arg-type]
            banking_retry=ImmediateRetry(attempts=1, retry_after=1),
        ),
    )
    yield built
    built.close()


@pytest.fixture(scope="module")
def partner(bridge: Bridge) -> Client:
    credentials = grant(bridge.engine, tier="partner", organisation="bank-a", name="bank a")
    return Client(authorized(bridge, credentials))


def test_the_soap_door_serves_the_wsdl_of_contracts_dir(partner: Client) -> None:
    served = partner.get("/soap/banking?wsdl")
    assert served.status_code == 200
    assert MARK in served.text
    assert f'<xs:maxLength value="{SHORT_LIMIT}"/>' in served.text


def test_the_soap_door_validates_against_the_schema_of_contracts_dir(partner: Client) -> None:
    answer = partner.post(
        "/soap/banking",
        data=transfer(LONG_MSG_ID),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"TransferFunds"'},
    )
    fault = read_fault(answer.data)
    assert (fault.code, fault.field) == ("Client", "TransferFunds/MsgId")
    assert f"maximum length of '{SHORT_LIMIT}'" in f"{fault.reason} {fault.text}"


def test_the_openapi_document_takes_its_facets_from_contracts_dir(partner: Client) -> None:
    document = partner.get("/api/openapi.json").json
    assert document is not None
    msg_id = document["components"]["schemas"]["TransferRequest"]["properties"]["msg_id"]
    assert msg_id["maxLength"] == SHORT_LIMIT


def test_the_rest_door_refuses_what_the_contract_of_contracts_dir_refuses(
    partner: Client,
) -> None:
    answer = post_json(
        partner,
        "/api/v1/transfers",
        {**load("transfer_request.json"), "msg_id": LONG_MSG_ID},
        **{"Idempotency-Key": "contracts-dir-1"},
    )
    problem = assert_problem(answer, 400, "mapping-error")
    (error,) = problem["errors"]
    assert error["path"] == "msg_id"
    assert f"maximum length of '{SHORT_LIMIT}'" in error["expected"]


def test_the_simulators_serve_the_contracts_of_contracts_dir(bridge: Bridge) -> None:
    admin = Client(authorized(bridge, simulator_admin(bridge.engine)))
    served = admin.get("/sims/corebank?wsdl")
    assert served.status_code == 200
    assert MARK in served.text
