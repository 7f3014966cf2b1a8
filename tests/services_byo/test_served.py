"""An imported contract through the real `bridge serve` (gunicorn workers forked from its master,
the simulator server started in each worker): one REST call and one SOAP call."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.served import bridge_serve

pytestmark = pytest.mark.slow

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
VAT = "urn:example:vat:v1"
CHECK_VAT = (
    f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><v:checkVat xmlns:v="{VAT}">'
    "<v:countryCode>DE</v:countryCode><v:vatNumber>123456789</v:vatNumber>"
    "</v:checkVat></soap:Body></soap:Envelope>"
).encode()


def test_bridge_serve_answers_an_imported_service_over_rest_and_soap(
    imported: tuple[Path, Path], tmp_path: Path
) -> None:
    contracts, mappings = imported
    environment = {"BRIDGE_CONTRACTS_DIR": str(contracts), "BRIDGE_MAPPINGS_DIR": str(mappings)}
    with bridge_serve(tmp_path, environment) as served:
        caller = served.grant(tier="partner", scopes={"vat:call"})
        rest = requests.post(
            f"{served.url}/api/v1/services/vat/checkVat",
            json={"countryCode": "DE", "vatNumber": "123456789"},
            headers=caller.headers,
            timeout=30,
        )
        soap = requests.post(
            f"{served.url}/soap/services/vat",
            data=CHECK_VAT,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{VAT}#checkVat"',
                **caller.headers,
            },
            timeout=30,
        )

    assert rest.status_code == 200, rest.text
    assert isinstance(rest.json()["valid"], bool)
    assert soap.status_code == 200, soap.text
    assert b"checkVatResponse>" in soap.content
