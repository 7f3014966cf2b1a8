"""POST /api/v1/accounts/{account}/verification and GET .../transactions.

`client` is a partner of organisation bank-a; the statement account ACCOUNT is linked to it
(`linked`), as an operator would link it, unless a test says otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.domain.errors import UpstreamRejected, UpstreamUnavailable
from tests.common.banking import FakeCoreBank
from tests.common.rest import assert_problem, post_json
from tests.credentials import Credentials, authorized, grant

ACCOUNT = "DE89370400440532013000"
VERIFY = f"/api/v1/accounts/{ACCOUNT}/verification"
TRANSACTIONS = f"/api/v1/accounts/{ACCOUNT}/transactions"
MAY = {"from_date": "2025-05-01", "to_date": "2025-05-31"}
UNKNOWN = "DE02120300000000202051"


@pytest.fixture(autouse=True)
def linked(rest_bridge: Bridge, credentials: Credentials) -> None:
    rest_bridge.security.links.link(credentials.client, ACCOUNT)


def _as(rest_bridge: Bridge, tier: str, organisation: str | None = None) -> Client:
    return Client(
        authorized(rest_bridge, grant(rest_bridge.engine, tier=tier, organisation=organisation))
    )


def test_matching_name_is_mtch(client: Client) -> None:
    response = post_json(client, VERIFY, {"name": "Bäckerei Müller & Söhne GmbH"})

    assert response.status_code == 200
    assert response.get_json() == {
        "result": "MTCH",
        "suggested_name": None,
        "account_status": "ACTV",
    }


def test_close_name_is_cmtc_with_the_registered_name(client: Client) -> None:
    response = post_json(client, VERIFY, {"name": "bäckerei müller &  söhne gmbh"})

    assert response.get_json()["result"] == "CMTC"
    assert response.get_json()["suggested_name"] == "Bäckerei Müller & Söhne GmbH"


def test_other_identifier_is_looked_up_as_such(client: Client) -> None:
    response = post_json(client, "/api/v1/accounts/123456789/verification", {"name": "山田 太郎"})

    assert response.get_json() == {
        "result": "MTCH",
        "suggested_name": None,
        "account_status": "BLCK",
    }


def test_unknown_account_is_noap_not_404(client: Client) -> None:
    response = post_json(
        client, "/api/v1/accounts/DE02120300000000202051/verification", {"name": "X"}
    )

    assert response.status_code == 200
    assert response.get_json() == {"result": "NOAP", "suggested_name": None, "account_status": None}


@pytest.mark.parametrize(
    ("body", "path"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 141}, "name"), ({"name": 7}, "name")],
)
def test_missing_or_bad_name_is_400(client: Client, body: dict[str, Any], path: str) -> None:
    problem = assert_problem(post_json(client, VERIFY, body), 400, "mapping-error")

    assert problem["errors"][0]["path"] == path


def test_account_that_is_not_letters_and_digits_is_400(client: Client) -> None:
    response = post_json(client, "/api/v1/accounts/DE89-3704/verification", {"name": "X"})

    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["path"] == "account"
    assert problem["errors"][0]["got"] == "DE89-3704"


def test_verification_refused_by_core_banking_is_502(
    client: Client, corebank: FakeCoreBank
) -> None:
    corebank.failure = UpstreamRejected("corebank", "Client fault: schema validation failed")

    problem = assert_problem(post_json(client, VERIFY, {"name": "X"}), 502, "upstream-rejected")

    assert "schema validation failed" in problem["detail"]


def test_verification_while_core_banking_is_down_is_503(
    client: Client, corebank: FakeCoreBank
) -> None:
    corebank.failure = UpstreamUnavailable("corebank", "connection refused", retry_after=11)

    response = post_json(client, VERIFY, {"name": "X"})

    assert_problem(response, 503, "upstream-unavailable")
    assert response.headers["Retry-After"] == "11"


def test_transactions_come_as_canonical_json_with_amounts_as_strings(client: Client) -> None:
    response = client.get(TRANSACTIONS, query_string=MAY)

    assert response.status_code == 200
    page = response.get_json()
    assert page["next_cursor"] is None
    assert [t["tx_id"] for t in page["transactions"]] == [
        "E20250502-0001",
        "E20250505-0002",
        "E20250507-0003",
        "E20250509-0004",
        "E20250512-0005",
    ]
    assert page["transactions"][1] == {
        "tx_id": "E20250505-0002",
        "booking_date": "2025-05-05",
        "amount": {"amount": "420.50", "currency": "EUR"},
        "credit_debit": "DBIT",
        "counterparty_name": "Stadtwerke Köln",
        "remittance_info": "Strom Mai",
    }


def test_cursor_walks_every_page_once(client: Client) -> None:
    seen: list[str] = []
    query = {**MAY, "limit": "2"}
    pages = 0
    while True:
        page = client.get(TRANSACTIONS, query_string=query).get_json()
        pages += 1
        seen += [t["tx_id"] for t in page["transactions"]]
        if page["next_cursor"] is None:
            break
        query = {**MAY, "limit": "2", "cursor": page["next_cursor"]}

    assert pages == 3
    assert len(seen) == len(set(seen)) == 5


def test_cursor_does_not_show_the_account_number(client: Client) -> None:
    page = client.get(TRANSACTIONS, query_string={**MAY, "limit": "2"}).get_json()

    assert ACCOUNT not in page["next_cursor"]
    assert page["next_cursor"].isascii()


@pytest.mark.parametrize(
    "changed",
    [
        {"limit": "3"},
        {"from_date": "2025-05-02"},
        {"to_date": "2025-05-30"},
    ],
)
def test_cursor_of_another_query_is_400(client: Client, changed: dict[str, str]) -> None:
    cursor = client.get(TRANSACTIONS, query_string={**MAY, "limit": "2"}).get_json()["next_cursor"]

    response = client.get(
        TRANSACTIONS, query_string={**MAY, "limit": "2", **changed, "cursor": cursor}
    )

    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["path"] == "cursor"


def test_cursor_of_another_account_is_400(client: Client) -> None:
    cursor = client.get(TRANSACTIONS, query_string={**MAY, "limit": "2"}).get_json()["next_cursor"]

    response = client.get(
        "/api/v1/accounts/DE41500105170123456789/transactions",
        query_string={**MAY, "limit": "2", "cursor": cursor},
    )

    assert_problem(response, 400, "mapping-error")


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJ2IjoxfQ", "%%%"])
def test_made_up_cursor_is_400(client: Client, cursor: str) -> None:
    response = client.get(TRANSACTIONS, query_string={**MAY, "cursor": cursor})

    assert_problem(response, 400, "mapping-error")


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"to_date": "2025-05-31"}, "from_date"),
        ({"from_date": "2025-05-01"}, "to_date"),
        ({**MAY, "limit": "0"}, "limit"),
        ({**MAY, "limit": "501"}, "limit"),
        ({**MAY, "limit": "many"}, "limit"),
        ({"from_date": "01.05.2025", "to_date": "2025-05-31"}, "from_date"),
        ({**MAY, "page": "2"}, "page"),
    ],
)
def test_bad_query_parameter_is_400_naming_it(
    client: Client, query: dict[str, str], path: str
) -> None:
    problem = assert_problem(client.get(TRANSACTIONS, query_string=query), 400, "mapping-error")

    assert [error["path"] for error in problem["errors"]] == [path]


def test_from_date_after_to_date_is_400(client: Client) -> None:
    response = client.get(
        TRANSACTIONS, query_string={"from_date": "2025-06-01", "to_date": "2025-05-01"}
    )

    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["path"] == "to_date"


def test_sparse_fields_apply_to_each_transaction(client: Client) -> None:
    response = client.get(
        TRANSACTIONS, query_string={**MAY, "limit": "2", "fields": "tx_id,amount.amount"}
    )

    page = response.get_json()
    assert page["transactions"] == [
        {"tx_id": "E20250502-0001", "amount": {"amount": "1850.00"}},
        {"tx_id": "E20250505-0002", "amount": {"amount": "420.50"}},
    ]
    assert page["next_cursor"]


def test_whole_field_wins_over_its_parts(client: Client) -> None:
    response = client.get(
        TRANSACTIONS, query_string={**MAY, "limit": "1", "fields": "amount.currency,amount"}
    )

    assert response.get_json()["transactions"] == [
        {"amount": {"amount": "1850.00", "currency": "EUR"}}
    ]


def test_unknown_transaction_field_is_400(client: Client) -> None:
    response = client.get(TRANSACTIONS, query_string={**MAY, "fields": "tx_id,balance"})

    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["got"] == "balance"


def test_statement_while_core_banking_is_down_is_503(
    client: Client, corebank: FakeCoreBank
) -> None:
    corebank.failure = UpstreamUnavailable("corebank", "timed out", retry_after=3)

    response = client.get(TRANSACTIONS, query_string=MAY)

    assert_problem(response, 503, "upstream-unavailable")
    assert response.headers["Retry-After"] == "3"


# -- whose statements ----------------------------------------------------------------------------


def test_a_public_client_may_verify_but_not_read_statements(rest_bridge: Bridge) -> None:
    public = _as(rest_bridge, "public")

    assert post_json(public, VERIFY, {"name": "X"}).status_code == 200
    assert_problem(public.get(TRANSACTIONS, query_string=MAY), 403, "forbidden")


def test_an_account_linked_to_the_organisation_is_read_by_each_of_its_clients(
    rest_bridge: Bridge, credentials: Credentials
) -> None:
    rest_bridge.security.links.unlink(credentials.client, ACCOUNT)
    colleague = grant(rest_bridge.engine, tier="partner", organisation="bank-a")
    rest_bridge.security.links.link(colleague.client, ACCOUNT, organisation=True)

    for caller in (credentials, colleague):
        response = Client(authorized(rest_bridge, caller)).get(TRANSACTIONS, query_string=MAY)
        assert response.status_code == 200
    outsider = _as(rest_bridge, "partner", organisation="bank-b")
    assert_problem(outsider.get(TRANSACTIONS, query_string=MAY), 404, "not-found")


def test_an_unlinked_account_is_404_worded_as_an_unknown_one(client: Client) -> None:
    other = "DE41500105170123456789"

    unlinked = assert_problem(
        client.get(f"/api/v1/accounts/{other}/transactions", query_string=MAY), 404, "not-found"
    )
    unknown = assert_problem(
        client.get(f"/api/v1/accounts/{UNKNOWN}/transactions", query_string=MAY), 404, "not-found"
    )

    assert unlinked["detail"] == unknown["detail"].replace(UNKNOWN, other)


def test_another_partners_linked_account_is_404(other_partner: Client) -> None:
    assert_problem(other_partner.get(TRANSACTIONS, query_string=MAY), 404, "not-found")


def test_a_private_client_reads_every_account_without_links(rest_bridge: Bridge) -> None:
    private = _as(rest_bridge, "private")

    response = private.get(TRANSACTIONS, query_string=MAY)

    assert response.status_code == 200
    assert len(response.get_json()["transactions"]) == 5


def test_an_unlinked_account_is_refused_at_once(
    rest_bridge: Bridge, client: Client, credentials: Credentials
) -> None:
    assert client.get(TRANSACTIONS, query_string=MAY).status_code == 200

    rest_bridge.security.links.unlink(credentials.client, ACCOUNT)

    assert_problem(client.get(TRANSACTIONS, query_string=MAY), 404, "not-found")
