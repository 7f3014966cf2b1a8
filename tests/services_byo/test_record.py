"""`bridge sim record` / `replay`: real exchanges proxied and stored masked, then served back.

The "real" upstream is the VAT contract's generated simulator on a loopback port; the
recording proxy runs in process in front of it. Replays run the simulator of the same
service answering from what was recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine
from werkzeug.test import Client, TestResponse

from bridge.contracts.catalog import Catalog, ImportedService
from bridge.mapping import xml
from bridge.sims.recording import Recording, Replay
from bridge.sims.recording_proxy import RecordingProxy
from bridge.sims.services import ServiceSimulator
from bridge.store.db import make_engine, migrate
from bridge.upstream.transport import SOAP11_ENV, SoapTransport, pooled_http
from tests.common.live import serve_wsgi

VAT = "urn:example:vat:v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SECRET = "pa55-word-never-stored"
BEARER = "Bearer tok-never-stored"
SECURITY = (
    f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Username>cl_1</wsse:Username>'
    f"<wsse:Password>{SECRET}</wsse:Password><wsse:Nonce>bm9uY2Utbm9uY2Utbm9uY2U=</wsse:Nonce>"
    "</wsse:UsernameToken></wsse:Security>"
)


def check_vat(number: str = "123456789", prefix: str = "v", header: str = "") -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Header>{header}</soap:Header>'
        f'<soap:Body>\n  <{prefix}:checkVat xmlns:{prefix}="{VAT}">'
        f"<{prefix}:countryCode>DE</{prefix}:countryCode>"
        f"<{prefix}:vatNumber>{number}</{prefix}:vatNumber></{prefix}:checkVat>\n"
        "</soap:Body></soap:Envelope>"
    ).encode()


def register(name: str = "Jane Doe") -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body>'
        f'<v:registerCompany xmlns:v="{VAT}"><v:countryCode>DE</v:countryCode>'
        f"<v:name>{name}</v:name><v:capital>25000.00</v:capital></v:registerCompany>"
        "</soap:Body></soap:Envelope>"
    ).encode()


def post(client: Client, body: bytes, operation: str, **headers: str) -> TestResponse:
    return client.post(
        "/",
        data=body,
        content_type="text/xml; charset=utf-8",
        headers={"SOAPAction": f'"{VAT}#{operation}"', **headers},
    )


@pytest.fixture(scope="module")
def vat(imported: tuple[Path, Path]) -> ImportedService:
    return Catalog.load(*imported)["vat"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('record') / 'sims.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def recorded(
    vat: ImportedService, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A folder of three exchanges recorded through the proxy from the "real" upstream."""
    folder = tmp_path_factory.mktemp("recordings")
    upstream = ServiceSimulator(vat, engine, base_url="http://upstream.test", seed=7)
    with serve_wsgi(upstream) as url:
        transport = SoapTransport("vat", f"{url}/", pooled_http(), timeout=10)
        proxy = Client(
            RecordingProxy(vat, transport, Recording(folder), address="http://proxy.test/")
        )
        answers = [
            post(proxy, check_vat(header=SECURITY), "checkVat", Authorization=BEARER),
            post(proxy, register(), "registerCompany"),
            post(proxy, check_vat(number="de"), "checkVat"),  # refused by the upstream
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 500]
    return folder


def files(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"*/*{suffix}"))


def test_each_exchange_is_stored_as_its_request_reply_and_index(recorded: Path) -> None:
    assert [path.parent.name for path in files(recorded, ".json")] == [
        "checkVat",
        "checkVat",
        "registerCompany",
    ]
    assert len(files(recorded, ".request.xml")) == len(files(recorded, ".reply.xml")) == 3


def test_secrets_and_credentials_never_reach_the_files(recorded: Path) -> None:
    everything = b"".join(path.read_bytes() for path in recorded.rglob("*") if path.is_file())

    assert SECRET.encode() not in everything
    assert b"tok-never-stored" not in everything
    assert b"bm9uY2U" not in everything


def test_account_numbers_and_personal_names_are_masked_keeping_their_shape(
    recorded: Path,
) -> None:
    requests_ = b"".join(path.read_bytes() for path in files(recorded, ".request.xml"))

    assert b"123456789" not in requests_
    assert b"000006789" in requests_
    assert b"Jane Doe" not in requests_
    assert b"Xxxx Xxx" in requests_
    assert b"25000.00" in requests_  # an amount is not an account number


def test_a_recorded_reply_stays_valid_against_the_contract(
    recorded: Path, vat: ImportedService
) -> None:
    for path in files(recorded, ".reply.xml"):
        body = xml.parse(path.read_bytes()).find(f"{{{SOAP11_ENV}}}Body")
        assert body is not None
        if body[0].tag == f"{{{SOAP11_ENV}}}Fault":
            continue
        assert vat.contract.schema.validator.violation(body[0]) is None, path


@pytest.fixture
def replaying(vat: ImportedService, engine: Engine, recorded: Path) -> Client:
    replay = Replay.load(recorded, vat)
    return Client(ServiceSimulator(vat, engine, base_url="http://sim.test", replay=replay))


def test_a_recorded_request_is_answered_with_the_recorded_reply(
    replaying: Client, recorded: Path
) -> None:
    # Another prefix, no header: the same request once masked and made canonical.
    answer = post(replaying, check_vat(prefix="ns0"), "checkVat")

    (exchange,) = [e for e in Recording(recorded) if e.operation == "checkVat" and e.status == 200]
    assert answer.status_code == 200
    assert answer.data == exchange.reply


def test_a_request_differing_only_in_what_is_masked_gets_the_same_reply(
    replaying: Client,
) -> None:
    original = post(replaying, check_vat(), "checkVat")
    same_shape = post(replaying, check_vat(number="555556789"), "checkVat")

    assert same_shape.status_code == 200
    assert same_shape.data == original.data


def test_a_recorded_fault_is_served_back_as_a_fault(replaying: Client) -> None:
    answer = post(replaying, check_vat(number="de"), "checkVat")

    assert answer.status_code == 500
    assert b"Fault" in answer.data


def test_a_request_nobody_recorded_is_a_client_fault_saying_so(replaying: Client) -> None:
    answer = post(replaying, check_vat(number="AB12"), "checkVat")

    fault = etree.fromstring(answer.data)
    assert answer.status_code == 500
    assert fault.findtext(".//faultcode") == "soap:Client"
    assert "not recorded" in (fault.findtext(".//faultstring") or "")


def test_with_the_sample_fallback_an_unrecorded_request_gets_a_generated_answer(
    vat: ImportedService, engine: Engine, recorded: Path
) -> None:
    replay = Replay.load(recorded, vat, "sample")
    simulator = Client(ServiceSimulator(vat, engine, base_url="http://sim.test", replay=replay))

    answer = post(simulator, check_vat(number="AB12"), "checkVat")

    assert answer.status_code == 200
    assert b"checkVatResponse" in answer.data


def test_the_proxy_refuses_what_no_operation_takes_and_forwards_nothing(
    vat: ImportedService, tmp_path: Path
) -> None:
    transport = SoapTransport("vat", "http://127.0.0.1:9/", pooled_http(), timeout=1)
    proxy = Client(RecordingProxy(vat, transport, Recording(tmp_path), address="http://p/"))
    other = (
        f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body><x:nothing xmlns:x="urn:x"/>'
        "</soap:Body></soap:Envelope>"
    ).encode()

    answer = post(proxy, other, "checkVat")

    assert answer.status_code == 500
    assert b"not forwarded" in answer.data
    assert list(tmp_path.iterdir()) == []
