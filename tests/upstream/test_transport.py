"""The HTTP half of an upstream call (`SoapTransport`) against an upstream that keeps its
connections alive, as real ones do: calls share a connection, what is left of a broken reply
never becomes the next call's reply, a bad address is "not sent", and HTTPS is verified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.domain.errors import OutcomeUnknown, UpstreamUnavailable
from bridge.upstream.transport import SoapTransport, pooled_http
from tests.common.keepalive import OK, KeepAliveServer, reply
from tests.common.tls import Certificates, issue

pytestmark = pytest.mark.slow

HEADERS = {"Content-Type": 'text/xml; charset="utf-8"', "SOAPAction": '"Ping"'}
ENVELOPE = b"<ping/>"


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as server:
        yield server


def transport_to(address: str, **options: int) -> SoapTransport:
    return SoapTransport("upstream", address, pooled_http(), timeout=5, **options)


def test_calls_in_turn_share_one_connection(server: KeepAliveServer) -> None:
    transport = transport_to(f"{server.url}/soap")

    answers = [transport.post("Ping", ENVELOPE, HEADERS) for _ in range(5)]

    assert answers == [(200, OK)] * 5
    assert server.bodies == [ENVELOPE] * 5
    assert server.connections == 1


def test_a_reply_over_the_cap_is_unknown_and_the_next_call_gets_its_own(
    server: KeepAliveServer,
) -> None:
    transport = transport_to(f"{server.url}/soap", max_reply_bytes=1000)
    server.answers.append(reply(b"x" * 200_000))

    with pytest.raises(OutcomeUnknown, match="longer than 1000 bytes"):
        transport.post("Ping", ENVELOPE, HEADERS)

    assert transport.post("Ping", ENVELOPE, HEADERS) == (200, OK)
    assert server.connections == 2  # the one left mid-reply was closed, not reused


def test_bytes_after_a_reply_are_not_taken_for_the_next_reply(server: KeepAliveServer) -> None:
    transport = transport_to(f"{server.url}/soap")
    server.answers.append(reply(b"<first/>") + reply(b"<stray/>", status="500 Stray"))

    assert transport.post("Ping", ENVELOPE, HEADERS) == (200, b"<first/>")
    assert transport.post("Ping", ENVELOPE, HEADERS) == (200, OK)


def test_an_error_status_is_read_whole_and_its_connection_kept(server: KeepAliveServer) -> None:
    transport = transport_to(f"{server.url}/soap")
    server.answers.append(reply(b"<busy/>", status="503 Service Unavailable"))

    assert transport.post("Ping", ENVELOPE, HEADERS) == (503, b"<busy/>")
    assert transport.post("Ping", ENVELOPE, HEADERS) == (200, OK)
    assert server.connections == 1


def test_the_pools_headers_go_out_with_every_call_and_a_calls_own_win(
    server: KeepAliveServer,
) -> None:
    transport = SoapTransport(
        "sim",
        f"{server.url}/sims/corebank",
        pooled_http(headers={"X-Secret": "s3", "SOAPAction": '"Default"'}),
        timeout=5,
    )

    for _ in range(2):
        transport.post("Ping", ENVELOPE, HEADERS)

    assert [(seen["x-secret"], seen["soapaction"]) for seen in server.headers] == [
        ("s3", '"Ping"')
    ] * 2
    transport_to(f"{server.url}/soap").post("Ping", ENVELOPE, HEADERS)  # a pool of its own
    assert "x-secret" not in server.headers[2]


@pytest.mark.parametrize(
    "address",
    [
        "corebank.example/soap",  # no scheme
        "ftp://127.0.0.1/soap",
        "http://",
        "http://127.0.0.1:99999/soap",
        "http://[::1/soap",
    ],
)
def test_a_bad_address_is_not_sent(address: str) -> None:
    with pytest.raises(UpstreamUnavailable) as raised:
        transport_to(address).post("Ping", ENVELOPE, HEADERS)

    assert not isinstance(raised.value, OutcomeUnknown)
    assert raised.value.detail.startswith("upstream: Ping: not sent")


def test_a_header_that_cannot_be_sent_is_an_upstream_error(server: KeepAliveServer) -> None:
    transport = transport_to(f"{server.url}/soap")

    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        transport.post("Ping", ENVELOPE, {**HEADERS, "X-Request-ID": "a\r\nX-Evil: 1"})

    assert server.bodies == []


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return issue(tmp_path_factory.mktemp("tls"), names=("127.0.0.1",))


def test_https_to_a_server_whose_authority_is_trusted_is_answered(
    certificates: Certificates,
) -> None:
    with KeepAliveServer(tls=certificates.server_context()) as server:
        http = pooled_http(ca_certs=str(certificates.ca_file))
        transport = SoapTransport("upstream", f"{server.url}/soap", http, timeout=5)

        answers = [transport.post("Ping", ENVELOPE, HEADERS) for _ in range(3)]

    assert answers == [(200, OK)] * 3
    assert server.connections == 1


def test_https_certificates_are_verified_by_default(certificates: Certificates) -> None:
    """The test authority is in no default trust store: nothing is sent."""
    with (
        KeepAliveServer(tls=certificates.server_context()) as server,
        pytest.raises(UpstreamUnavailable) as raised,
    ):
        transport_to(f"{server.url}/soap").post("Ping", ENVELOPE, HEADERS)

    assert not isinstance(raised.value, OutcomeUnknown)  # nothing was sent: known, not applied
    assert "not sent, the upstream's certificate was refused" in raised.value.detail
    assert "unable to get local issuer certificate" in raised.value.detail
    assert server.bodies == []


def test_https_checks_the_host_name(tmp_path: Path) -> None:
    """A certificate of a trusted authority, for another name, is refused."""
    other = issue(tmp_path, names=("upstream.example",))
    with KeepAliveServer(tls=other.server_context()) as server:
        http = pooled_http(ca_certs=str(other.ca_file))
        with pytest.raises(UpstreamUnavailable) as raised:
            SoapTransport("upstream", f"{server.url}/soap", http, timeout=5).post(
                "Ping", ENVELOPE, HEADERS
            )

    assert not isinstance(raised.value, OutcomeUnknown)
    assert "certificate was refused (IP address mismatch" in raised.value.detail
    assert server.bodies == []
