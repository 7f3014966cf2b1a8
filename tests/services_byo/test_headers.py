"""SOAP headers at the pass-through: those the operation declares (`soap:header`) are checked
against the contract and forwarded; WS-Security is the bridge's and never leaves it; any other
header is dropped, and one marked mustUnderstand that the door does not process is refused.

In process: the pass-through of the `header/accounts.wsdl` fixture (declared headers
`Authentication` and `RequestId`) over werkzeug's test client, with a fake upstream client
that keeps what it was handed; the framing of forwarded headers by the real client is checked
on a fake transport."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from werkzeug.test import Client, TestResponse
from zeep.wsse.username import UsernameToken

from bridge.contracts.catalog import Catalog, ImportedService
from bridge.contracts.importer import import_contract
from bridge.mapping import xml
from bridge.security import Security, build_security
from bridge.security.access import Scopes
from bridge.services.imported import ImportedServices, Service
from bridge.settings import Settings
from bridge.soap.passthrough import PassThrough
from bridge.store.db import make_engine, migrate
from bridge.upstream.breakers import circuit_breaker
from bridge.upstream.generic import ServiceUpstream
from bridge.upstream.transport import SOAP11_ENV
from tests.common.contracts import byo
from tests.credentials import Credentials, grant

NS = "urn:byo:header"
OTHER = "urn:example:tracing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ACTION = f"{NS}:GetBalance"
AUTHENTICATION = (
    f'<a:Authentication xmlns:a="{NS}"><a:user>u1</a:user><a:token>t</a:token></a:Authentication>'
)
REQUEST_ID = f'<a:RequestId xmlns:a="{NS}">req-1</a:RequestId>'
TRACE = f'<t:Trace xmlns:t="{OTHER}">abc</t:Trace>'


@dataclass
class KeepingUpstream:
    """Keeps the headers of every call; answers a balance."""

    calls: list[list[Any]] = field(default_factory=list)

    def call(
        self,
        operation: str,
        body: Any,
        *,
        headers: Sequence[Any] = (),
        correlation_id: str | None = None,
    ) -> Any:
        self.calls.append(list(headers))
        return xml.parse(
            f'<a:GetBalanceResponse xmlns:a="{NS}"><a:balance>1.50</a:balance>'
            "</a:GetBalanceResponse>".encode()
        )


@dataclass
class Door:
    client: Client
    upstream: KeepingUpstream
    security: Security
    caller: Credentials


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> ImportedService:
    root = tmp_path_factory.mktemp("headers")
    contracts, mappings = root / "wsdl", root / "mappings"
    import_contract(
        byo("header/accounts.wsdl"),
        name="accounts",
        contracts_dir=contracts,
        mappings_dir=mappings,
        upstream="http://127.0.0.1:9/accounts",
    )
    return Catalog.load(contracts, mappings)["accounts"]


@pytest.fixture
def door(accounts: ImportedService, tmp_path: Path) -> Iterator[Door]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    migrate(engine)
    settings = Settings(simulators=False, scheduler=False, token_keys_dir=tmp_path / "keys")
    security = build_security(settings, engine, Scopes(accounts.config.described_scopes()))
    upstream = KeepingUpstream()
    services = ImportedServices([Service(accounts, upstream)])
    app = PassThrough(
        services.service("accounts"), services, security, base_url="http://bridge.test"
    )
    caller = grant(engine, tier="partner", scopes={"accounts:call"})
    yield Door(Client(app), upstream, security, caller)
    engine.dispose()


def envelope(*headers: str) -> bytes:
    header = f"<soap:Header>{''.join(headers)}</soap:Header>" if headers else ""
    return (
        f'<soap:Envelope xmlns:soap="{SOAP11_ENV}">{header}<soap:Body>'
        f'<a:GetBalance xmlns:a="{NS}"><a:account>DE89</a:account></a:GetBalance>'
        "</soap:Body></soap:Envelope>"
    ).encode()


def post(door: Door, body: bytes, *, api_key: bool = True) -> TestResponse:
    headers = {"SOAPAction": f'"{ACTION}"', **(door.caller.headers if api_key else {})}
    return door.client.post("/", data=body, content_type="text/xml; charset=utf-8", headers=headers)


def tags(entries: list[Any]) -> list[str]:
    return [etree.QName(entry).localname for entry in entries]


def faultstring(answer: TestResponse) -> str:
    return etree.fromstring(answer.data).findtext(".//faultstring") or ""


def test_declared_headers_are_forwarded_and_undeclared_ones_dropped(door: Door) -> None:
    answer = post(door, envelope(AUTHENTICATION, TRACE, REQUEST_ID))

    assert answer.status_code == 200, answer.text
    (forwarded,) = door.upstream.calls
    assert tags(forwarded) == ["Authentication", "RequestId"]
    assert forwarded[1].text == "req-1"


def test_a_declared_header_the_contract_refuses_is_a_client_fault_naming_it(door: Door) -> None:
    broken = f'<a:Authentication xmlns:a="{NS}"><a:user>u1</a:user></a:Authentication>'

    answer = post(door, envelope(broken))

    assert answer.status_code == 500
    assert "Authentication" in faultstring(answer)
    assert door.upstream.calls == []


def test_an_undeclared_must_understand_header_is_a_must_understand_fault(door: Door) -> None:
    trace = f'<t:Trace xmlns:t="{OTHER}" soap:mustUnderstand="1" xmlns:soap="{SOAP11_ENV}"/>'

    answer = post(door, envelope(trace))

    code = etree.fromstring(answer.data).findtext(".//faultcode") or ""
    assert code.endswith("MustUnderstand")
    assert door.upstream.calls == []


def test_a_declared_must_understand_header_is_understood_and_forwarded(door: Door) -> None:
    request_id = (
        f'<a:RequestId xmlns:a="{NS}" soap:mustUnderstand="1" '
        f'xmlns:soap="{SOAP11_ENV}">req-2</a:RequestId>'
    )

    answer = post(door, envelope(request_id))

    assert answer.status_code == 200, answer.text
    assert tags(door.upstream.calls[0]) == ["RequestId"]


def test_the_ws_security_header_authenticates_and_is_never_forwarded(door: Door) -> None:
    password = door.security.clients.create_wss_password(door.caller.client.id)
    signed = xml.parse(envelope(REQUEST_ID))
    signed, _ = UsernameToken(door.caller.client.id, password, use_digest=True).apply(signed, {})

    answer = post(door, etree.tostring(signed), api_key=False)

    assert answer.status_code == 200, answer.text
    assert tags(door.upstream.calls[0]) == ["RequestId"]
    assert all(WSSE not in etree.tostring(entry).decode() for entry in door.upstream.calls[0])


@dataclass
class KeepingTransport:
    """What the real client posts, answered with a balance."""

    envelopes: list[bytes] = field(default_factory=list)

    def post(
        self, operation: str, envelope: bytes, headers: dict[str, str], *, timeout: Any = None
    ) -> tuple[int, bytes]:
        self.envelopes.append(envelope)
        return 200, (
            f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body>'
            f'<a:GetBalanceResponse xmlns:a="{NS}"><a:balance>2</a:balance>'
            "</a:GetBalanceResponse></soap:Body></soap:Envelope>"
        ).encode()


def test_the_upstream_client_frames_forwarded_headers_in_the_soap_header(
    accounts: ImportedService,
) -> None:
    transport = KeepingTransport()
    client = ServiceUpstream(
        accounts.contract,
        transport,  # type: ignore[arg-type]
        circuit_breaker("accounts-headers"),
        fault_codecs={},
    )
    body = xml.parse(
        f'<a:GetBalance xmlns:a="{NS}"><a:account>1</a:account></a:GetBalance>'.encode()
    )

    client.call("GetBalance", body, headers=[xml.parse(REQUEST_ID.encode())])

    sent = xml.parse(transport.envelopes[0])
    header = sent.find(f"{{{SOAP11_ENV}}}Header")
    assert header is not None
    assert [entry.tag for entry in header] == [f"{{{NS}}}RequestId"]
    assert sent.find(f"{{{SOAP11_ENV}}}Body/{{{NS}}}GetBalance") is not None
