"""Core banking's Client fault for an account it does not hold, on a statement: a 404, not 502."""

from __future__ import annotations

import requests

from tests.common.live import LiveBridge

# An IBAN with valid check digits that the core banking simulator does not hold.
UNKNOWN = "GB82WEST12345698765432"


def test_a_statement_of_an_unknown_account_is_not_found(live_bridge: LiveBridge) -> None:
    response = requests.get(
        f"{live_bridge.url}/api/v1/accounts/{UNKNOWN}/transactions",
        params={"from_date": "2025-05-01", "to_date": "2025-05-31"},
        timeout=30,
    )

    assert response.status_code == 404, response.text
    assert response.json()["type"].endswith("/not-found")
