"""The whole bridge on a loopback port: calls on both doors land in the audit log, which
`GET /api/v1/audit` serves back to a private operator."""

from __future__ import annotations

import pytest
import requests

from tests.common.live import LiveBridge

pytestmark = pytest.mark.slow

IBAN = "DE89370400440532013000"
ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:b="urn:bridge:banking:v1"><soapenv:Body><b:AccountVerificationRequest>'
    f"<b:Acct><b:IBAN>{IBAN}</b:IBAN></b:Acct><b:Nm>Jane Doe</b:Nm>"
    "</b:AccountVerificationRequest></soapenv:Body></soapenv:Envelope>"
)


def test_calls_on_both_doors_are_audited_and_served_back(live_bridge: LiveBridge) -> None:
    assert live_bridge.credentials is not None
    headers = live_bridge.credentials.headers
    verified = requests.post(
        f"{live_bridge.url}/api/v1/accounts/{IBAN}/verification",
        json={"name": "Jane Doe"},
        headers={**headers, "X-Request-ID": "live-audit-1"},
        timeout=30,
    )
    soap = requests.post(
        f"{live_bridge.url}/soap/banking",
        data=ENVELOPE.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"VerifyAccount"'},
        timeout=30,
    )

    answer = requests.get(f"{live_bridge.url}/api/v1/audit", headers=headers, timeout=30)

    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]
    (rest,) = [e for e in entries if e["correlation_id"] == "live-audit-1"]
    assert rest["interface"] == "rest"
    assert rest["operation"] == "POST /api/v1/accounts/<account>/verification"
    assert rest["resource_id"] == "DE89…3000"
    assert rest["status"] == str(verified.status_code)
    assert rest["client_id"] == live_bridge.credentials.client.id
    assert rest["source"] == "127.0.0.1"
    (door,) = [e for e in entries if e["interface"] == "soap"]
    assert door["operation"] == "VerifyAccount"
    assert door["correlation_id"] == soap.headers["X-Request-ID"]
    assert IBAN not in answer.text
