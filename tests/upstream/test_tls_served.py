"""An https:// core banking whose certificate the enterprise's own authority signed, called by
`bridge serve` as it runs: trusted once `BRIDGE_UPSTREAM_CA_FILE` names that authority; without
it the call is refused in the TLS handshake, nothing is sent, and the caller gets a 503 to retry
(not an outcome left for the reconciler to find out)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bridge.contracts.importer import import_contract
from bridge.settings import ROOT
from tests.common.keepalive import KeepAliveServer, reply
from tests.common.tls import Certificates, issue
from tests.served import BRIDGE, bridge_serve, json_records

DATA = Path(__file__).parents[1] / "data"
UPSTREAMS = ("corebank", "payroll", "logistics", "classifier")
POSTED = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    + (DATA / "contracts" / "corebank_valid_post_payment_response_posted.xml")
    .read_bytes()
    .split(b"-->", 1)[1]
    + b"</soap:Body></soap:Envelope>"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return issue(tmp_path_factory.mktemp("enterprise-ca"), names=("127.0.0.1",))


@pytest.fixture
def corebank(certificates: Certificates) -> Iterator[KeepAliveServer]:
    with KeepAliveServer(tls=certificates.server_context()) as server:
        yield server


def _transfer(
    workdir: Path, corebank: KeepAliveServer, env: dict[str, str]
) -> tuple[requests.Response, str]:
    """One REST transfer through `bridge serve` (simulators off, every upstream = `corebank`):
    the answer, and what `bridge serve` logged."""
    upstreams = {f"BRIDGE_{name.upper()}_URL": corebank.url for name in UPSTREAMS}
    with bridge_serve(workdir, {"BRIDGE_SIMULATORS": "false", **upstreams, **env}) as served:
        caller = served.grant(tier="partner", organisation="bank-tls", name="bank tls")
        body = json.loads((DATA / "rest" / "transfer_request.json").read_text("utf-8"))
        answer = requests.post(
            f"{served.url}/api/v1/transfers", json=body, headers=caller.headers, timeout=30
        )
    return answer, served.output


def test_an_upstream_signed_by_the_configured_authority_is_called(
    tmp_path: Path, corebank: KeepAliveServer, certificates: Certificates
) -> None:
    corebank.answers.append(reply(POSTED))

    answer, _ = _transfer(
        tmp_path, corebank, {"BRIDGE_UPSTREAM_CA_FILE": str(certificates.ca_file)}
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "ACSC"
    assert len(corebank.bodies) == 1
    assert b"PostPayment" in corebank.bodies[0]


def test_without_it_nothing_is_sent_and_the_caller_may_retry(
    tmp_path: Path, corebank: KeepAliveServer
) -> None:
    """The public authorities (certifi) do not know the enterprise's: refused before sending."""
    answer, logged = _transfer(tmp_path, corebank, {})

    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert int(answer.headers["Retry-After"]) > 0
    assert corebank.bodies == []
    assert "not sent, the upstream's certificate was refused" in answer.json()["detail"]
    # and the operator reads why in the log, under the request's correlation id
    [line] = [
        record
        for record in json_records(logged)
        if record.get("upstream") == "corebank" and record.get("operation") == "PostPayment"
    ]
    assert line["level"] == "WARNING"
    assert line["outcome"] == "unavailable"
    assert "certificate was refused" in line["message"]
    assert line["correlation_id"] == answer.headers["X-Request-ID"]


def test_a_file_of_no_certificates_stops_the_start(tmp_path: Path) -> None:
    """A wrong path or file is named when `bridge serve` starts, not at the first call."""
    (tmp_path / "ca.pem").write_text("not a certificate\n")

    done = subprocess.run(
        [str(BRIDGE), "serve"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "BRIDGE_UPSTREAM_CA_FILE": "ca.pem"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert "BRIDGE_UPSTREAM_CA_FILE" in done.stderr + done.stdout
    assert "not a PEM file of certificates" in done.stderr + done.stdout


VAT_WSDL = DATA / "services_byo" / "vat" / "checkVatService.wsdl"
CHECK_VAT_RESPONSE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<v:checkVatResponse xmlns:v="urn:example:vat:v1"><v:countryCode>DE</v:countryCode>'
    b"<v:vatNumber>123456789</v:vatNumber><v:requestDate>2026-12-06</v:requestDate>"
    b"<v:valid>true</v:valid><v:name>Example GmbH</v:name></v:checkVatResponse>"
    b"</soap:Body></soap:Envelope>"
)


@pytest.mark.parametrize("trusted", [True, False], ids=["ca-file", "no-ca-file"])
def test_an_imported_service_upstream_over_https_trusts_the_same_authority(
    tmp_path: Path, corebank: KeepAliveServer, certificates: Certificates, trusted: bool
) -> None:
    """`bridge contract import --upstream https://...`: the imported service's client takes the
    same CA file as the built-in upstreams (here `corebank` stands in for the VAT service)."""
    contracts, mappings = tmp_path / "wsdl", tmp_path / "mappings"
    shutil.copytree(ROOT / "wsdl", contracts)
    shutil.copytree(ROOT / "mappings", mappings)
    import_contract(
        VAT_WSDL,
        name="vat",
        contracts_dir=contracts,
        mappings_dir=mappings,
        upstream=corebank.url,
        safe=["checkVat"],
    )
    corebank.answers.append(reply(CHECK_VAT_RESPONSE))
    env = {
        "BRIDGE_SIMULATORS": "false",
        **{f"BRIDGE_{name.upper()}_URL": corebank.url for name in UPSTREAMS},
        "BRIDGE_CONTRACTS_DIR": str(contracts),
        "BRIDGE_MAPPINGS_DIR": str(mappings),
        **({"BRIDGE_UPSTREAM_CA_FILE": str(certificates.ca_file)} if trusted else {}),
    }
    with bridge_serve(tmp_path, env) as served:
        caller = served.grant(tier="partner", scopes={"vat:call"})
        answer = requests.post(
            f"{served.url}/api/v1/services/vat/checkVat",
            json={"countryCode": "DE", "vatNumber": "123456789"},
            headers=caller.headers,
            timeout=30,
        )

    if trusted:
        assert answer.status_code == 200, answer.text
        assert answer.json()["name"] == "Example GmbH"
        assert len(corebank.bodies) == 1
    else:
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) > 0
        assert "certificate was refused" in answer.json()["detail"]
        assert corebank.bodies == []
