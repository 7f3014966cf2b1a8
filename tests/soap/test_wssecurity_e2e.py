"""WS-Security on the SOAP door, as a partner bank uses it: the whole bridge on a loopback port,
zeep's own `UsernameToken` (PasswordDigest) on the partner's side; raw `requests` where a test
must send the very same header twice or an old one. No API key rides along: the bridge serves
without default credentials, so WS-Security is the only credential of these calls.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault as ZeepFault
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from bridge.security.clients import ApiClient
from tests.common.live import LiveBridge, serve_bridge
from tests.common.soap import DATA, SOAP_ENV, read_fault

pytestmark = [pytest.mark.slow]

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
HARDENED = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
DEBTOR = "DE89370400440532013000"  # Bäckerei Müller & Söhne GmbH at the core banking simulator


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    """One bridge for the module: every test makes its own clients and nonces."""
    yield from _serve(tmp_path_factory.mktemp("wss"))


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    """A bridge configured to accept PasswordText."""
    yield from _serve(tmp_path_factory.mktemp("wss-text"), wss_password_text=True)


def _serve(directory: Path, **settings: Any) -> Iterator[LiveBridge]:
    with serve_bridge(
        default_credentials=False,
        database_url=f"sqlite:///{directory / 'bridge.db'}",
        token_keys_dir=directory / "keys",
        **settings,
    ) as served:
        yield served


def bank(
    live: LiveBridge, *, tier: str = "partner", scopes: tuple[str, ...] = ("accounts:read",)
) -> tuple[ApiClient, str]:
    """A client of the bridge and its WS-Security password, as `bridge clients` makes them."""
    registry = live.bridge.security.clients
    client, _ = registry.create("Nordbank", tier, scopes, plan="internal", organisation="nordbank")
    return client, registry.create_wss_password(client.id)


def partner(live: LiveBridge, wsse: Any) -> Any:
    """A partner's zeep client with its WS-Security token, reading the served WSDL."""
    transport = Transport(session=requests.Session(), timeout=15, operation_timeout=15)
    return zeep.Client(
        f"{live.url}/soap/banking?wsdl", transport=transport, settings=HARDENED, wsse=wsse
    )


def verify_account(client: Any) -> Any:
    return client.service.VerifyAccount(Acct={"IBAN": DEBTOR}, Nm="Bäckerei Müller & Söhne GmbH")


def digest_request(username: str, password: str, created: datetime, nonce: bytes) -> bytes:
    """The VerifyAccount sample with a PasswordDigest UsernameToken built here, the digest by
    hashlib: Base64(SHA-1(nonce + created + password))."""
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest())
    envelope = etree.fromstring((DATA / "requests" / "verify_account.xml").read_bytes())
    header = etree.Element(f"{{{SOAP_ENV}}}Header")
    envelope.insert(0, header)
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP_ENV}}}mustUnderstand", "1")
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = username
    password_element = etree.SubElement(token, f"{{{WSSE}}}Password")
    password_element.set("Type", f"{PROFILE}#PasswordDigest")
    password_element.text = digest.decode()
    etree.SubElement(token, f"{{{WSSE}}}Nonce").text = base64.b64encode(nonce).decode()
    etree.SubElement(token, f"{{{WSU}}}Created").text = stamp
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def with_token(request_file: str, token: UsernameToken) -> bytes:
    """A sample request with zeep's `token` applied to it, as zeep does before sending."""
    envelope = etree.fromstring((DATA / "requests" / request_file).read_bytes())
    token.apply(envelope, {})
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def post(live: LiveBridge, body: bytes, action: str = "VerifyAccount") -> requests.Response:
    return requests.post(
        f"{live.url}/soap/banking",
        data=body,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'},
        timeout=15,
    )


# -- accepted -------------------------------------------------------------------------------------


def test_zeep_username_token_with_digest_calls_the_banking_door(live: LiveBridge) -> None:
    client, password = bank(live)
    zeep_client = partner(live, UsernameToken(client.id, password, use_digest=True))

    first = verify_account(zeep_client)
    second = verify_account(zeep_client)  # zeep makes a new nonce and Created for every call

    assert (first.Rslt, first.AcctSts) == ("MTCH", "ACTV")
    assert second.Rslt == "MTCH"


# -- refused: 401 ---------------------------------------------------------------------------------


def test_the_same_header_sent_again_is_a_401_fault(live: LiveBridge) -> None:
    client, password = bank(live)
    request = digest_request(client.id, password, datetime.now(UTC), os.urandom(16))
    assert post(live, request).status_code == 200

    replayed = post(live, request)

    assert replayed.status_code == 401
    fault = read_fault(replayed.content)
    assert (fault.code, fault.kind) == ("Client", "replayed-credentials")


def test_a_stale_created_is_a_401_fault(live: LiveBridge) -> None:
    client, password = bank(live)
    stale = datetime.now(UTC) - timedelta(minutes=10)

    refused = post(live, digest_request(client.id, password, stale, os.urandom(16)))

    assert refused.status_code == 401
    fault = read_fault(refused.content)
    assert fault.code == "Client"
    assert "time window" in (fault.reason or "")


def test_a_wrong_password_is_a_401_fault(live: LiveBridge) -> None:
    client, password = bank(live)

    with pytest.raises(ZeepFault) as refused:
        verify_account(partner(live, UsernameToken(client.id, password + "x", use_digest=True)))

    assert refused.value.code == "soap:Client"


def test_password_text_is_a_401_fault_unless_configured(live: LiveBridge) -> None:
    client, password = bank(live)

    refused = post(live, with_token("verify_account.xml", UsernameToken(client.id, password)))

    assert refused.status_code == 401
    assert "PasswordText" in (read_fault(refused.content).reason or "")


def test_password_text_is_accepted_when_configured(lenient: LiveBridge) -> None:
    client, password = bank(lenient)

    answer = verify_account(partner(lenient, UsernameToken(client.id, password)))

    assert answer.Rslt == "MTCH"


# -- refused: 403 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "scopes", "request_file", "action"),
    [
        # a partner without the operation's scope
        ("partner", ("shipments:read",), "verify_account.xml", "VerifyAccount"),
        # the scope, but a tier the operation is not for
        ("public", ("transfers:read",), "get_transfer_status.xml", "GetTransferStatus"),
    ],
)
def test_a_client_the_operation_is_not_for_is_a_403_fault(
    live: LiveBridge, tier: str, scopes: tuple[str, ...], request_file: str, action: str
) -> None:
    client, password = bank(live, tier=tier, scopes=scopes)
    token = UsernameToken(client.id, password, use_digest=True)

    refused = post(live, with_token(request_file, token), action)

    assert refused.status_code == 403
    assert read_fault(refused.content).code == "Client"
