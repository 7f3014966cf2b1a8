"""The four upstream simulators on a real HTTP server, and zeep clients that check every answer
against the checked-in contract (the `sim_server` fixture of tests/sims/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import zeep
from lxml import etree
from sqlalchemy import Engine
from zeep.transports import Transport

from bridge.mapping.schemas import contract_schema
from bridge.sims import SimControl
from tests.common.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
WSDL_DIR = ROOT / "wsdl" / "upstream"
NS_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAMES = ("corebank", "payroll", "logistics", "classifier")
BINDINGS = {
    "corebank": "{urn:corebank:payments:v1}CoreBankBinding",
    "payroll": "{urn:payroll:v1}PayrollBinding",
    "logistics": "{urn:logistics:booking:v1}LogisticsBinding",
    "classifier": "{urn:classifier:v1}ClassifierBinding",
}
# The simulators' clock stands here (so estimated deliveries are predictable): Monday 09:00 UTC.
MONDAY = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
HARDENED = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)


class ContractCheck(zeep.Plugin):
    """Fails a call whose answer (other than a fault) is not valid against the contract."""

    def __init__(self, name: str) -> None:
        self.schema = contract_schema(name)

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        body = envelope.find(f"{{{NS_ENV}}}Body")
        answer = body[0]
        if answer.tag != f"{{{NS_ENV}}}Fault":
            self.schema.assertValid(answer)
        return envelope, http_headers


@dataclass(frozen=True)
class SimServer:
    base_url: str
    engine: Engine
    clock: Clock
    controls: dict[str, SimControl]

    def url(self, name: str) -> str:
        return f"{self.base_url}/sims/{name}"

    def client(self, name: str, *, operation_timeout: float = 5.0) -> zeep.Client:
        """A zeep client that loads the simulator's WSDL from the running server."""
        transport = Transport(timeout=5, operation_timeout=operation_timeout)
        return zeep.Client(
            f"{self.url(name)}?wsdl",
            settings=HARDENED,
            transport=transport,
            plugins=[ContractCheck(name)],
        )

    def checked_in_client(self, name: str) -> Any:
        """A service proxy from the checked-in WSDL file, pointed at the simulator."""
        client = zeep.Client(
            str(WSDL_DIR / f"{name}.wsdl"),
            settings=HARDENED,
            transport=Transport(timeout=5, operation_timeout=5),
            plugins=[ContractCheck(name)],
        )
        return client.create_service(BINDINGS[name], self.url(name))

    def post_document(self, name: str, document: etree._Element) -> requests.Response:
        """POST one request element, wrapped in a SOAP 1.1 envelope, without zeep."""
        envelope = etree.Element(f"{{{NS_ENV}}}Envelope", nsmap={"soap": NS_ENV})
        etree.SubElement(envelope, f"{{{NS_ENV}}}Body").append(document)
        payload = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        return self.post_raw(name, payload, etree.QName(document).localname)

    def post_raw(self, name: str, payload: bytes, action: str = "") -> requests.Response:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        return requests.post(self.url(name), data=payload, headers=headers, timeout=5)
