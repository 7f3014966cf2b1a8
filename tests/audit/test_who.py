"""Who made a call is on its audit row whenever the bridge knows it: a call refused for its
tier or scope, a SOAP operation the caller may not use, a token issued."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from bridge.store.audit import AuditRecord
from tests.common.live import LiveBridge
from tests.credentials import grant

pytestmark = pytest.mark.slow

REQUESTS = Path(__file__).parents[1] / "data" / "soap" / "requests"


def _rows(live: LiveBridge, client_id: str) -> list[AuditRecord]:
    live.bridge.audit.flush()
    return live.bridge.audit.query(client_id=client_id)


def test_a_rest_call_refused_for_its_tier_names_its_caller(live_bridge: LiveBridge) -> None:
    public = grant(live_bridge.bridge.engine, tier="public", scopes={"accounts:read"})

    refused = requests.get(f"{live_bridge.url}/api/v1/audit", headers=public.headers, timeout=15)

    assert refused.status_code == 403
    [row] = _rows(live_bridge, public.client.id)
    assert (row.interface, row.status, row.outcome) == ("rest", "403", "denied")
    assert row.tier == "public"


def test_a_denied_soap_operation_names_its_caller(live_bridge: LiveBridge) -> None:
    public = grant(live_bridge.bridge.engine, tier="public", scopes={"accounts:read"})

    refused = requests.post(
        f"{live_bridge.url}/soap/banking",
        data=(REQUESTS / "get_transfer_status.xml").read_bytes(),
        headers={
            **public.headers,
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"GetTransferStatus"',
        },
        timeout=15,
    )

    assert refused.status_code == 403
    [row] = _rows(live_bridge, public.client.id)
    assert (row.interface, row.operation, row.outcome) == ("soap", "GetTransferStatus", "denied")


def test_a_token_issuance_names_the_client_it_was_issued_to(live_bridge: LiveBridge) -> None:
    client = grant(live_bridge.bridge.engine, tier="partner", scopes={"transfers:read"})

    issued = requests.post(
        f"{live_bridge.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client.id, client.secret),
        timeout=15,
    )

    assert issued.status_code == 200, issued.text
    [row] = _rows(live_bridge, client.client.id)
    assert (row.operation, row.status, row.tier) == ("POST /oauth/token", "200", "partner")
