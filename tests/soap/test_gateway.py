"""What a request must pass before any handler runs: HTTP, size, hostile XML, envelope, action.

Every refusal is a SOAP 1.1 fault with HTTP 500, carries the correlation id, shows no stack trace
and leaves core banking untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

from tests.common.soap import (
    DATA,
    URL,
    Door,
    Fault,
    no_stack_trace,
    read_fault,
    request_file,
    transfer,
)

HOSTILE = sorted(path.name for path in (DATA / "hostile").glob("*.xml"))


def _refused(door: Door, response: Response, code: str = "Client", status: int = 500) -> Fault:
    body = response.data
    assert response.status_code == status, body
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    fault = read_fault(body)
    assert fault.code == code, fault
    assert fault.correlation_id == response.headers["X-Request-ID"]
    assert no_stack_trace(body)
    assert door.corebank.calls == []
    return fault


# -- the contract at ?wsdl and other methods ---------------------------------------------------


@pytest.mark.parametrize("query", ["wsdl", "WSDL", "wsdl=", "x=1&wsdl"])
def test_wsdl_is_served_for_any_spelling_of_the_query(door: Door, query: str) -> None:
    response = door.client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert response.data.startswith(b"<?xml")


def test_head_of_the_wsdl_has_its_length_and_no_body(door: Door) -> None:
    response = door.client.head(f"{URL}?wsdl")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(door.gateway.wsdl)
    assert response.data == b""


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_not_allowed(door: Door, method: str) -> None:
    response = door.client.open(URL, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"


def test_paths_below_the_service_are_not_found(door: Door) -> None:
    assert door.client.post(f"{URL}/TransferFunds", data=transfer()).status_code == 404


# -- HTTP ----------------------------------------------------------------------------------------


def test_unquoted_soapaction_is_accepted(door: Door) -> None:
    response = door.client.post(
        URL,
        data=transfer(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "TransferFunds"},
    )
    assert response.status_code == 200, response.data


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_content_type_must_be_text_xml(door: Door, content_type: str) -> None:
    fault = _refused(door, door.post(transfer(), content_type=content_type))
    assert "text/xml" in fault.text


def test_soap12_content_type_is_a_version_mismatch(door: Door) -> None:
    _refused(door, door.post(transfer(), content_type="application/soap+xml"), "VersionMismatch")


def test_missing_soapaction_is_refused(door: Door) -> None:
    fault = _refused(door, door.post(transfer(), action=None))
    assert "SOAPAction" in fault.text


def test_soapaction_of_no_operation_is_refused(door: Door) -> None:
    fault = _refused(door, door.post(transfer(), action="DeleteEverything"))
    assert "not an operation" in fault.text


@pytest.mark.parametrize("action", ["VerifyAccount", "GetTransferStatus", ""])
def test_soapaction_naming_another_operation_than_the_body_is_refused(
    door: Door, action: str
) -> None:
    fault = _refused(door, door.post(transfer(), action=action))
    assert "SOAPAction" in fault.text


# -- size ----------------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """A valid TransferFunds padded with whitespace to `size` bytes."""
    body = transfer()
    return body.replace(b"<soapenv:Body>", b"<soapenv:Body>" + b" " * (size - len(body)), 1)


def test_body_at_the_limit_is_accepted(door: Door) -> None:
    response = door.post(_padded(door.gateway.max_body_bytes))
    assert response.status_code == 200, response.data


def test_body_over_the_limit_is_refused_before_parsing(door: Door) -> None:
    fault = _refused(door, door.post(_padded(door.gateway.max_body_bytes + 1)), status=413)
    assert fault.kind == "hostile-document"
    assert "exceeds the limit" in fault.text


def test_body_declared_far_over_the_limit_is_refused_without_reading_it(door: Door) -> None:
    builder = EnvironBuilder(
        path=URL,
        method="POST",
        data=transfer(),
        headers={"Content-Type": "text/xml", "SOAPAction": "TransferFunds"},
    )
    environ = builder.get_environ()
    environ["CONTENT_LENGTH"] = str(10**12)
    read: list[int] = []
    stream = environ["wsgi.input"]

    class Counting:
        def read(self, size: int = -1) -> bytes:
            chunk: bytes = stream.read(size)
            read.append(len(chunk))
            return chunk

    environ["wsgi.input"] = Counting()
    _refused(door, door.call(environ), status=413)
    assert sum(read) == 0


def _chunked(door: Door, body: bytes) -> Response:
    builder = EnvironBuilder(
        path=URL,
        method="POST",
        data=body,
        headers={"Content-Type": "text/xml", "SOAPAction": "TransferFunds"},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True  # what servers set for Transfer-Encoding: chunked
    return door.call(environ)


def test_chunked_body_within_the_limit_is_read(door: Door) -> None:
    assert _chunked(door, transfer()).status_code == 200


def test_chunked_body_over_the_limit_is_refused(door: Door) -> None:
    _refused(door, _chunked(door, _padded(door.gateway.max_body_bytes + 1)), status=413)


def test_body_without_length_is_refused(door: Door) -> None:
    builder = EnvironBuilder(
        path=URL,
        method="POST",
        data=transfer(),
        headers={"Content-Type": "text/xml", "SOAPAction": "TransferFunds"},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ.pop("wsgi.input_terminated", None)
    fault = _refused(door, door.call(environ))
    assert "Content-Length" in fault.text


# -- hostile XML ---------------------------------------------------------------------------------


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY leak "fetched">')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canary() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records any request: proof that nothing was fetched."""
    server = HTTPServer(("127.0.0.1", 0), _Canary)
    hits: list[str] = []
    _Canary.hits = hits
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_document_is_refused_before_expansion(
    door: Door, canary: tuple[str, list[str]], name: str
) -> None:
    url, hits = canary
    document = request_file(f"hostile/{name}")
    if b"CANARY" in document:
        document = document.replace(b"CANARY", url.encode())
    response = door.post(document)
    fault = _refused(door, response)
    assert fault.kind in ("hostile-document", "invalid-input")
    assert b"lollol" not in response.data
    assert b"root:" not in response.data
    assert b"expanded" not in response.data
    assert hits == []


def test_comments_and_processing_instructions_in_a_request_are_harmless(door: Door) -> None:
    body = transfer().replace(b"<bnk:MsgId>", b"<?evil pi?><!-- note --><bnk:MsgId>")
    assert door.post(body).status_code == 200


# -- the envelope --------------------------------------------------------------------------------


def test_soap12_envelope_is_a_version_mismatch(door: Door) -> None:
    _refused(door, door.post(request_file("protocol/soap12_envelope.xml")), "VersionMismatch")


def test_header_that_must_be_understood_is_refused(door: Door) -> None:
    fault = _refused(
        door, door.post(request_file("protocol/must_understand_header.xml")), "MustUnderstand"
    )
    assert "Routing" in fault.text


def test_headers_that_need_not_be_understood_are_ignored(door: Door) -> None:
    assert door.post(request_file("protocol/ignorable_header.xml")).status_code == 200


@pytest.mark.parametrize(
    "name", ["two_body_elements.xml", "element_after_body.xml", "not_an_envelope.xml"]
)
def test_malformed_envelope_is_refused(door: Door, name: str) -> None:
    _refused(door, door.post(request_file(f"protocol/{name}")))


def test_body_element_of_no_operation_is_refused_naming_it(door: Door) -> None:
    fault = _refused(door, door.post(request_file("protocol/unknown_operation.xml")))
    assert fault.field == "CancelTransfer"


def test_not_well_formed_xml_is_refused(door: Door) -> None:
    fault = _refused(door, door.post(transfer()[:-40]))
    assert "well-formed" in fault.text


def test_caller_correlation_id_is_kept_in_the_fault(door: Door) -> None:
    response = door.post(transfer(), action="VerifyAccount", **{"X-Request-ID": "partner-42"})
    assert read_fault(response.data).correlation_id == "partner-42"


def test_a_failure_of_the_gateway_itself_is_a_server_fault(
    door: Door, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(element: object) -> None:
        raise RuntimeError("validator state lost at 0x7f00")

    monkeypatch.setattr(door.gateway.validator, "check", broken)
    response = door.post(transfer())
    fault = _refused(door, response, "Server")
    assert fault.kind == "internal-error"
    assert b"0x7f00" not in response.data


def test_spyne_answers_nothing_that_did_not_pass_the_gateway(door: Door) -> None:
    builder = EnvironBuilder(
        path="/",
        method="POST",
        data=transfer(),
        headers={"Content-Type": "text/xml", "SOAPAction": "TransferFunds"},
    )
    app_iter, status, _ = run_wsgi_app(door.gateway.soap, builder.get_environ(), buffered=True)
    assert status.startswith("500")
    assert read_fault(b"".join(app_iter)).code == "Server"
    assert door.corebank.calls == []
