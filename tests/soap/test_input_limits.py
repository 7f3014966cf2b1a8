"""Limits on what the SOAP door reads, each refused with a Client fault naming the limit: an
envelope of more elements, or nested deeper, than the XML limits (HTTP 500, as SOAP 1.1 says of
faults), and a body of more bytes than the door takes (HTTP 413: refused before it was read as
SOAP, and so that a client retrying on 5xx does not send it again).

The requests are the valid transfer with ignorable headers added (no mustUnderstand), so a
request at a limit goes through the whole door and is answered 200."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from bridge.mapping import xml
from tests.common.soap import URL, Door, Fault, no_stack_trace, read_fault, transfer

HOSTILE = Path(__file__).parents[1] / "data" / "hostile"
TRACE = b'xmlns:t="urn:example:trace"'


def _refused(door: Door, response: Response, status: int = 500) -> Fault:
    body = response.data
    assert response.status_code == status, body
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    fault = read_fault(body)
    assert fault.code == "Client", fault
    assert fault.kind == "hostile-document"
    assert fault.correlation_id == response.headers["X-Request-ID"]
    assert no_stack_trace(body)
    assert door.corebank.calls == []
    return fault


def _with_header(content: bytes) -> bytes:
    return transfer().replace(
        b"<soapenv:Header/>", b"<soapenv:Header>" + content + b"</soapenv:Header>"
    )


def _with_elements(total: int) -> bytes:
    """The transfer with an ignorable header of as many empty elements as make `total`."""
    base = sum(1 for _ in etree.fromstring(transfer()).iter("*"))
    filler = total - base - 1  # the header's own element
    return _with_header(b"<t:Trace " + TRACE + b">" + b"<t:i/>" * filler + b"</t:Trace>")


def _with_depth(levels: int) -> bytes:
    """The transfer with an ignorable header nested `levels` deep (Envelope 1, Header 2)."""
    nested = levels - 2
    return _with_header(b"<t:n " + TRACE + b">" + b"<t:n>" * (nested - 1) + b"</t:n>" * nested)


@pytest.fixture
def roomy(door: Door, monkeypatch: pytest.MonkeyPatch) -> Door:
    """The door taking bodies of 1 MiB (its default), so the element limit is reached first."""
    monkeypatch.setattr(door.gateway, "max_body_bytes", 1_048_576)
    return door


def test_envelope_of_as_many_elements_as_the_limit_is_answered(roomy: Door) -> None:
    body = _with_elements(xml.MAX_ELEMENTS)
    assert sum(1 for _ in etree.fromstring(body).iter("*")) == xml.MAX_ELEMENTS
    response = roomy.post(body)
    assert response.status_code == 200, response.data


def test_envelope_of_one_element_more_is_a_client_fault_naming_the_limit(roomy: Door) -> None:
    fault = _refused(roomy, roomy.post(_with_elements(xml.MAX_ELEMENTS + 1)))
    assert f"more than {xml.MAX_ELEMENTS} elements" in fault.text


def test_element_flood_is_a_client_fault(roomy: Door) -> None:
    fault = _refused(roomy, roomy.post((HOSTILE / "element_flood.xml").read_bytes()))
    assert f"more than {xml.MAX_ELEMENTS} elements" in fault.text


def test_envelope_as_deep_as_the_limit_is_answered(door: Door) -> None:
    response = door.post(_with_depth(xml.MAX_DEPTH))
    assert response.status_code == 200, response.data


def test_envelope_one_level_deeper_is_a_client_fault_naming_the_limit(door: Door) -> None:
    fault = _refused(door, door.post(_with_depth(xml.MAX_DEPTH + 1)))
    assert f"deeper than {xml.MAX_DEPTH} levels" in fault.text


def test_deep_envelope_is_a_client_fault(door: Door) -> None:
    fault = _refused(door, door.post((HOSTILE / "deep_envelope.xml").read_bytes()))
    assert f"deeper than {xml.MAX_DEPTH} levels" in fault.text


def _padded(size: int) -> bytes:
    body = transfer()
    return body.replace(b"<soapenv:Body>", b"<soapenv:Body>" + b" " * (size - len(body)), 1)


def test_body_over_the_byte_limit_is_413_with_a_client_fault_naming_the_limit(
    door: Door,
) -> None:
    limit = door.gateway.max_body_bytes
    fault = _refused(door, door.post(_padded(limit + 1)), status=413)
    assert f"limit of {limit} bytes" in fault.text


def test_chunked_body_over_the_byte_limit_is_413_with_a_client_fault(door: Door) -> None:
    limit = door.gateway.max_body_bytes
    builder = EnvironBuilder(
        path=URL,
        method="POST",
        data=_padded(limit + 1),
        headers={"Content-Type": "text/xml", "SOAPAction": "TransferFunds"},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    fault = _refused(door, door.call(environ), status=413)
    assert f"limit of {limit} bytes" in fault.text
