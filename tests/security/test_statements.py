"""Statements are their holders': the SOAP door's GetTransactions over real sockets (core banking
simulated in process), and the account links operators manage with `bridge clients
link-account` and `/api/v1/clients/{id}/accounts`. The REST route is in
tests/rest/test_accounts.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.clients_cli import clients
from bridge.security.clients import ClientRegistry
from bridge.security.links import AccountLinks
from bridge.store.audit_tables import audit_log
from bridge.store.db import make_engine
from tests.common.live import LiveBridge
from tests.credentials import Credentials, grant

pytestmark = [pytest.mark.slow]

REQUEST = Path(__file__).parents[1] / "data" / "soap" / "requests" / "get_transactions.xml"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BANKING = "urn:bridge:banking:v1"
FAULT_INFO_KIND = ".//{*}FaultInfo/{*}Kind"
ACCOUNT = "DE89370400440532013000"  # known to the core banking simulator
OTHER = "DE41500105170123456789"
UNKNOWN = "DE02120300000000202051"


def _statement(live: LiveBridge, caller: Credentials, account: str = ACCOUNT) -> requests.Response:
    body = REQUEST.read_text("utf-8").replace(ACCOUNT, account)
    return requests.post(
        f"{live.url}/soap/banking",
        data=body.encode(),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"GetTransactions"',
            **caller.headers,
        },
        timeout=15,
    )


def _fault(response: requests.Response) -> tuple[str, str, str, str]:
    """(faultcode, Field, Reason, kind) of a fault answer."""
    fault = etree.fromstring(response.content).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None, response.text
    return (
        (fault.findtext("faultcode") or "").rpartition(":")[2],
        fault.findtext(f".//{{{BANKING}}}Field") or "",
        fault.findtext(f".//{{{BANKING}}}Reason") or "",
        fault.findtext(FAULT_INFO_KIND) or "",
    )


# -- the SOAP door --------------------------------------------------------------------------------


def test_soap_statements_are_refused_to_public_clients(live_bridge: LiveBridge) -> None:
    public = grant(live_bridge.bridge.engine, tier="public")

    refused = _statement(live_bridge, public)

    assert refused.status_code == 403
    assert _fault(refused)[0] == "Client"


def test_soap_partner_reads_its_linked_account_and_nothing_else(live_bridge: LiveBridge) -> None:
    bank = grant(live_bridge.bridge.engine, tier="partner", organisation="bank-a")
    live_bridge.bridge.security.links.link(bank.client, ACCOUNT)

    served = _statement(live_bridge, bank)
    unlinked = _statement(live_bridge, bank, OTHER)
    unknown = _statement(live_bridge, bank, UNKNOWN)

    assert served.status_code == 200, served.text
    assert b"GetTransactionsResponse" in served.content
    code, field, reason, kind = _fault(unlinked)
    assert (code, field, kind) == ("Client", "GetTransactions/Acct", "not-found")
    assert _fault(unknown) == (code, field, reason.replace(OTHER, UNKNOWN), kind)


def test_soap_account_of_the_organisation_is_read_by_its_other_clients(
    live_bridge: LiveBridge,
) -> None:
    engine = live_bridge.bridge.engine
    first = grant(engine, tier="partner", organisation="bank-a")
    second = grant(engine, tier="partner", organisation="bank-a")
    outsider = grant(engine, tier="partner", organisation="bank-b")
    live_bridge.bridge.security.links.link(first.client, ACCOUNT, organisation=True)

    assert _statement(live_bridge, second).status_code == 200
    assert _fault(_statement(live_bridge, outsider))[3] == "not-found"


def test_soap_private_client_reads_every_account(live_bridge: LiveBridge) -> None:
    private = grant(live_bridge.bridge.engine, tier="private")

    answer = _statement(live_bridge, private, OTHER)

    assert answer.status_code == 200, answer.text


# -- the admin endpoints --------------------------------------------------------------------------


def _links(http: Client, admin: Credentials, client_id: str) -> list[dict[str, str]]:
    answer = http.get(f"/api/v1/clients/{client_id}/accounts", headers=admin.headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    links: list[dict[str, str]] = answer.get_json()["links"]
    return links


def test_operators_link_and_unlink_accounts_over_rest_audited(app: Bridge) -> None:
    http = Client(app)
    admin = grant(app.engine, tier="private")
    bank = grant(app.engine, tier="partner", organisation="bank-a")
    url = f"/api/v1/clients/{bank.client.id}/accounts"

    own = http.post(url, json={"account": ACCOUNT}, headers=admin.headers)
    shared = http.post(url, json={"account": OTHER, "organisation": True}, headers=admin.headers)
    again = http.post(url, json={"account": ACCOUNT}, headers=admin.headers)

    assert own.status_code == 201
    assert own.get_json()["holder_kind"] == "client"
    assert shared.get_json()["holder"] == "bank-a"
    assert again.status_code == 409
    assert [(x["account"], x["holder_kind"]) for x in _links(http, admin, bank.client.id)] == [
        (OTHER, "organisation"),  # ordered by account
        (ACCOUNT, "client"),
    ]
    gone = http.delete(f"{url}/{OTHER}?organisation=true", headers=admin.headers)
    assert gone.status_code == 204
    assert http.delete(f"{url}/{OTHER}", headers=admin.headers).status_code == 404
    assert [x["account"] for x in _links(http, admin, bank.client.id)] == [ACCOUNT]
    app.audit.close()  # writes what is buffered
    with app.engine.connect() as db:
        rows = db.execute(
            select(audit_log.c.operation, audit_log.c.detail).where(
                audit_log.c.interface == "admin"
            )
        ).all()
    operations = [row.operation for row in rows]
    assert operations.count("client link-account") == 2
    assert operations.count("client unlink-account") == 1
    assert not any(ACCOUNT in (row.detail or "") for row in rows), "account numbers are masked"


@pytest.mark.parametrize(
    ("body", "status"),
    [({"account": "DE89-3704"}, 400), ({"account": ACCOUNT, "organisation": True}, 422)],
)
def test_a_bad_account_or_an_organisation_the_client_lacks_is_refused(
    app: Bridge, body: dict[str, object], status: int
) -> None:
    admin = grant(app.engine, tier="private")
    loner = grant(app.engine, tier="partner")  # no organisation

    answer = Client(app).post(
        f"/api/v1/clients/{loner.client.id}/accounts", json=body, headers=admin.headers
    )

    assert answer.status_code == status, answer.get_data(as_text=True)


def test_linking_is_for_operators_only(app: Bridge) -> None:
    bank = grant(app.engine, tier="partner", organisation="bank-a")

    answer = Client(app).post(
        f"/api/v1/clients/{bank.client.id}/accounts",
        data=json.dumps({"account": ACCOUNT}),
        content_type="application/json",
        headers=bank.headers,
    )

    assert answer.status_code == 403


# -- the command line -----------------------------------------------------------------------------


def test_bridge_clients_link_account_and_unlink_account(sqlite_url: str, tmp_path: Path) -> None:
    env = {"BRIDGE_DATABASE_URL": sqlite_url, "BRIDGE_TOKEN_KEYS_DIR": str(tmp_path / "keys")}
    runner = CliRunner()
    created = runner.invoke(
        clients,
        ["create", "--name", "Bank A", "--tier", "partner", "--organisation", "bank-a"],
        env=env,
    )
    client_id = created.output.split("client_id:")[1].split()[0]

    linked = runner.invoke(clients, ["link-account", client_id, ACCOUNT], env=env)
    shared = runner.invoke(clients, ["link-account", client_id, OTHER, "--organisation"], env=env)
    listed = runner.invoke(clients, ["accounts", client_id], env=env)
    twice = runner.invoke(clients, ["link-account", client_id, ACCOUNT], env=env)
    unlinked = runner.invoke(clients, ["unlink-account", client_id, ACCOUNT], env=env)
    missing = runner.invoke(clients, ["unlink-account", client_id, ACCOUNT], env=env)

    assert linked.exit_code == 0, linked.output
    assert "linked to client" in linked.output
    assert "linked to organisation bank-a" in shared.output
    assert [line.split()[:2] for line in listed.output.splitlines()] == [
        [OTHER, "organisation"],
        [ACCOUNT, "client"],
    ]
    assert twice.exit_code == 1
    assert unlinked.exit_code == 0
    assert missing.exit_code == 1
    engine = make_engine(sqlite_url)
    try:
        remaining = AccountLinks(engine).of(ClientRegistry(engine).get(client_id))
    finally:
        engine.dispose()
    assert [(link.account, link.holder) for link in remaining] == [(OTHER, "bank-a")]
