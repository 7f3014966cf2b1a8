"""The baseline a team would write by hand: Flask + zeep + xmltodict, no mapping layer, no store.

    gunicorn --workers 2 --bind 127.0.0.1:PORT 'bench.naive_proxy:create_app("http://.../sims/corebank")'

POST /transfers takes the REST door's JSON, calls core banking's PostPayment through zeep's own
message building, turns the raw reply into a dict with xmltodict and answers it as JSON. It keeps
nothing: no idempotency, no stored transfer, no reconciliation. Kept here only for bench/banking.py.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import xmltodict
import zeep
from flask import Flask, Response, request
from zeep.transports import Transport

WSDL = Path(__file__).resolve().parents[1] / "wsdl" / "upstream" / "corebank.wsdl"
MINOR_UNITS = {"EUR": 2, "USD": 2, "JPY": 0, "VND": 0, "BHD": 3, "KWD": 3}


def create_app(corebank_url: str) -> Flask:
    client = zeep.Client(str(WSDL), transport=Transport(timeout=10, operation_timeout=10))
    service = client.create_service("{urn:corebank:payments:v1}CoreBankBinding", corebank_url)
    app = Flask("naive-proxy")

    @app.post("/transfers")
    def transfer() -> Response:
        body: dict[str, Any] = request.get_json()
        amount = Decimal(body["amount"]["amount"])
        currency = body["amount"]["currency"]
        with client.settings(raw_response=True):
            reply = service.PostPayment(
                debitAccountNo=body["debtor"]["account"]["iban"],
                creditAccountNo=body["creditor"]["account"]["iban"],
                amountMinor=int(amount.scaleb(MINOR_UNITS[currency])),
                currencyCode=currency,
                valueDate=body.get("requested_execution_date") or "2026-11-25",
                narrative=body.get("remittance_info"),
                externalRef=uuid.uuid4().hex[:32],
            )
        (envelope,) = xmltodict.parse(reply.content).values()
        body = next(value for key, value in envelope.items() if key.endswith("Body"))
        (result,) = body.values()
        return Response(json.dumps(result), status=201, mimetype="application/json")

    return app
