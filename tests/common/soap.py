"""The banking SOAP door in process: request files, a `Door` to post them, faults read back.

In-process tests drive the door through werkzeug's test client with a `FakeCoreBank` behind the
real `BankingService` and a SQLite store (the `door` fixture of tests/soap/conftest.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Engine
from werkzeug.test import Client, run_wsgi_app
from werkzeug.wrappers import Response

from bridge.soap.gateway import SoapGateway
from tests.common.banking import FakeCoreBank, ImmediateRetry
from tests.credentials import Credentials

DATA = Path(__file__).resolve().parents[1] / "data" / "soap"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BANKING = "urn:bridge:banking:v1"
FAULT_INFO = "urn:bridge:fault:v1"
URL = "/soap/banking"

# Accounts the door's core bank treats specially; every other account exists and has money.
UNKNOWN_ACCOUNT = "DE02120300000000202051"
POOR_ACCOUNT = "DE41500105170123456789"

RETRIES = ImmediateRetry(attempts=3, retry_after=7)


def door_corebank() -> FakeCoreBank:
    """Core banking as the SOAP door's tests know it: it applies each externalRef once."""
    return FakeCoreBank(ledger={}, unknown_accounts={UNKNOWN_ACCOUNT}, poor_accounts={POOR_ACCOUNT})


@dataclass
class Door:
    """The SOAP door in process: `post` a request file or raw bytes, read the answer."""

    client: Client
    corebank: FakeCoreBank
    gateway: SoapGateway
    app: Any  # the WSGI application the client drives
    engine: Engine
    credentials: Credentials  # what every request without its own credential carries

    def call(self, environ: dict[str, Any]) -> Response:
        """Run one raw WSGI environ (for what a test client would normalise away)."""
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        return Response(app_iter, status, headers)

    def post(
        self,
        body: bytes,
        action: str | None = "TransferFunds",
        content_type: str = "text/xml; charset=utf-8",
        **headers: str,
    ) -> Any:
        sent = {"Content-Type": content_type, **headers}
        if action is not None:
            sent["SOAPAction"] = f'"{action}"'
        return self.client.post(URL, data=body, headers=sent)


def request_file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def transfer(msg_id: str = "PB-SOAP-0001", **replace: str) -> bytes:
    """The TransferFunds request file with another MsgId and, by element name, other values."""
    text = request_file("requests/transfer_funds.xml").decode()
    text = text.replace("PB-SOAP-0001", msg_id)
    for name, value in replace.items():
        if name == "Ccy":
            text = re.sub(r'Ccy="[^"]*"', f'Ccy="{value}"', text)
        elif name in ("DbtrIBAN", "CdtrIBAN"):
            role = name[:4]
            text = re.sub(
                rf"(<bnk:{role}>.*?<bnk:IBAN>)[^<]*(</bnk:IBAN>)",
                rf"\g<1>{value}\g<2>",
                text,
                flags=re.S,
            )
        else:
            text = re.sub(rf"(<bnk:{name}[^>]*>)[^<]*(</bnk:{name}>)", rf"\g<1>{value}\g<2>", text)
    return text.encode()


@dataclass(frozen=True)
class Fault:
    """A SOAP 1.1 fault as read from a response body."""

    code: str
    text: str
    field: str | None
    reason: str | None
    kind: str | None
    correlation_id: str | None
    retry_after: str | None


def read_fault(body: bytes) -> Fault:
    envelope = etree.fromstring(body)
    fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, body
    code = fault.findtext("faultcode") or ""
    prefix, _, local = code.rpartition(":")
    faultcode = fault.find("faultcode")
    assert faultcode is not None, body
    assert faultcode.nsmap.get(prefix) == SOAP_ENV, code
    return Fault(
        code=local,
        text=fault.findtext("faultstring") or "",
        field=fault.findtext(f"detail/{{{BANKING}}}ValidationFault/{{{BANKING}}}Field"),
        reason=fault.findtext(f"detail/{{{BANKING}}}ValidationFault/{{{BANKING}}}Reason"),
        kind=fault.findtext(f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}Kind"),
        correlation_id=fault.findtext(
            f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}CorrelationId"
        ),
        retry_after=fault.findtext(f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}RetryAfter"),
    )


def expected_field(document: bytes) -> str:
    found = re.search(rb"<!-- expect-field: (\S+) -->", document)
    assert found, "an invalid request file says which field it breaks"
    return found.group(1).decode()


def no_stack_trace(body: bytes) -> bool:
    return b"Traceback" not in body and b'File "' not in body and b".py" not in body
