"""An https:// core banking whose certificate the enterprise's own authority signed, called by
`bridge serve` as it runs: trusted once `BRIDGE_UPSTREAM_CA_FILE` names that authority; without
it the call is refused in the TLS handshake, nothing is sent, and the caller gets a 503 to retry
(not an outcome left for the reconciler to find out)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bridge.store.db import make_engine
from tests.common.keepalive import KeepAliveServer, reply
from tests.common.tls import Certificates, issue
from tests.credentials import grant
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
        engine = make_engine(f"sqlite:///{workdir / 'var' / 'bridge.db'}")
        try:
            caller = grant(engine, tier="partner", organisation="bank-tls", name="bank tls")
        finally:
            engine.dispose()
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
