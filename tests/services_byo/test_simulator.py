"""`/sims/services/<name>`: the generated simulator on the bridge's public port, closed to all
but simulator admins like every simulator, answering in the contract."""

from __future__ import annotations

import requests
from lxml import etree

from tests.common.live import LiveBridge
from tests.credentials import simulator_admin

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
VAT = "urn:example:vat:v1"
CHECK_VAT = (
    f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><v:checkVat xmlns:v="{VAT}">'
    "<v:countryCode>DE</v:countryCode><v:vatNumber>123456789</v:vatNumber>"
    "</v:checkVat></soap:Body></soap:Envelope>"
).encode()


def test_the_simulator_is_closed_to_callers_without_credentials(live: LiveBridge) -> None:
    assert requests.get(f"{live.url}/sims/services/vat?wsdl", timeout=30).status_code == 401


def test_an_admin_reads_its_wsdl_at_its_own_address(live: LiveBridge) -> None:
    admin = simulator_admin(live.bridge.engine)

    answer = requests.get(f"{live.url}/sims/services/vat?wsdl", headers=admin.headers, timeout=30)

    wsdl = etree.fromstring(answer.content)
    (address,) = wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == f"{live.url}/sims/services/vat"


def test_the_seed_of_a_call_chooses_its_answer_and_the_same_seed_the_same_one(
    live: LiveBridge,
) -> None:
    admin = simulator_admin(live.bridge.engine)

    def answer(seed: int) -> bytes:
        reply = requests.post(
            f"{live.url}/sims/services/vat?seed={seed}",
            data=CHECK_VAT,
            headers={"Content-Type": "text/xml; charset=utf-8", **admin.headers},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        return reply.content

    first = answer(1)

    assert answer(1) == first
    assert any(answer(seed) != first for seed in range(2, 7))


def test_a_request_the_contract_refuses_is_a_client_fault(live: LiveBridge) -> None:
    admin = simulator_admin(live.bridge.engine)

    reply = requests.post(
        f"{live.url}/sims/services/vat",
        data=CHECK_VAT.replace(b">DE<", b">de<"),
        headers={"Content-Type": "text/xml; charset=utf-8", **admin.headers},
        timeout=30,
    )

    assert reply.status_code == 500
    assert b"soap:Client" in reply.content
