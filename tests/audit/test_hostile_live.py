"""An outside tester's finding, over a real socket: `GET /api/v1/transfers/a%00b` without
credentials put a NUL in an audit row; PostgreSQL refused the batch and from then on no audit
row was written. Now the call is audited like any other and every later call is too."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from bridge.store.audit import AuditRecord
from tests.common.live import LiveBridge, serve_bridge
from tests.credentials import grant

pytestmark = pytest.mark.slow

SOAP_PING = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:b="urn:bridge:banking:v1"><soapenv:Body><b:GetTransferStatus>'
    "<b:MsgId>MSG-UNKNOWN-1</b:MsgId></b:GetTransferStatus></soapenv:Body></soapenv:Envelope>"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bridge.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def _audited(live: LiveBridge, correlation_ids: list[str]) -> dict[str, AuditRecord]:
    live.bridge.audit.flush()
    entries = live.bridge.audit.query(limit=1000)
    return {e.correlation_id: e for e in entries if e.correlation_id in correlation_ids}


def test_a_nul_in_an_anonymous_path_is_audited_and_later_calls_are_too(database_url: str) -> None:
    with serve_bridge(default_credentials=False, database_url=database_url) as live:
        key = grant(live.bridge.engine).headers
        ids = [f"hostile-{uuid.uuid4().hex[:8]}-{n}" for n in range(5)]

        def call(
            n: int, path: str, headers: dict[str, str], data: bytes | None = None
        ) -> requests.Response:
            return requests.request(
                "GET" if data is None else "POST",
                f"{live.url}{path}",
                headers={"X-Request-ID": ids[n], **headers},
                data=data,
                timeout=30,
            )

        anonymous = call(0, "/api/v1/transfers/a%00b", {})
        with_key = call(1, "/api/v1/transfers/a%00b", key)
        unknown = call(2, "/api/v1/transfers/NO-SUCH-TRANSFER", key)
        listed = call(3, "/api/v1/shipments", key)
        soap_headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": "GetTransferStatus",
        }
        soap = call(4, "/soap/banking", soap_headers, SOAP_PING.encode())

        assert anonymous.status_code == 401
        assert with_key.status_code == 400
        assert with_key.headers["Content-Type"] == "application/problem+json"
        assert with_key.json()["errors"][0]["path"] == "id"
        assert unknown.status_code == 404
        assert listed.status_code == 200
        audited = _audited(live, ids)
        assert sorted(audited) == sorted(ids)
        assert audited[ids[0]].resource_id == "a\ufffdb"
        assert audited[ids[0]].outcome == "unauthenticated"
        assert audited[ids[1]].outcome == "client_error"
        assert audited[ids[4]].interface == "soap"
        assert audited[ids[4]].status.startswith(("soap:", str(soap.status_code)))
        assert live.bridge.audit.pending == 0
