"""A core banking stand-in that answers every PostPayment with the same settled reply at once.

    gunicorn --workers 2 'bench.stub_corebank:app'

For `bench/banking.py --upstream stub`: with the simulator (spyne + a SQLite ledger) out of the
way, the contenders' own cost per request is what the numbers compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

REPLY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<PostPaymentResponse xmlns="urn:corebank:payments:v1"><paymentId>P-STUB</paymentId>'
    b"<resultCode>00</resultCode><resultText>posted</resultText>"
    b"<postingDate>2026-11-25</postingDate></PostPaymentResponse></soap:Body></soap:Envelope>"
)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response(
        "200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(REPLY)))]
    )
    return [REPLY]
