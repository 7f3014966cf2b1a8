"""Tests reach loopback and Unix sockets only: the session-wide guard of tests/conftest.py
refuses anything else before a packet leaves (a real connect could time out or fail with an
OSError; only the guard raises `NetworkRefused`)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.common.no_network import NetworkRefused, is_local_host

TEST_NET = "192.0.2.1"  # RFC 5737: documentation only, routed nowhere


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1, accepting in the background."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        accepting = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
        accepting.start()
        yield server
        accepting.join(timeout=5)


def test_a_connection_beyond_loopback_is_refused_naming_the_address() -> None:
    with pytest.raises(NetworkRefused, match=r"192\.0\.2\.1"):
        socket.create_connection((TEST_NET, 80), timeout=1)


def test_connect_ex_beyond_loopback_is_refused_and_the_socket_closed() -> None:
    with socket.socket() as probe:
        probe.settimeout(1)
        with pytest.raises(NetworkRefused):
            probe.connect_ex((TEST_NET, 80))
        assert probe.fileno() == -1


def test_an_ipv6_address_beyond_loopback_is_refused() -> None:
    with socket.socket(socket.AF_INET6) as probe, pytest.raises(NetworkRefused):
        probe.connect(("2001:db8::1", 80, 0, 0))


def test_a_datagram_beyond_loopback_is_refused() -> None:
    with socket.socket(type=socket.SOCK_DGRAM) as probe, pytest.raises(NetworkRefused):
        probe.sendto(b"ping", (TEST_NET, 53))


def test_a_name_lookup_beyond_localhost_is_refused() -> None:
    with pytest.raises(NetworkRefused, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_server_is_reached(listener: socket.socket, host: str) -> None:
    port = listener.getsockname()[1]
    with socket.create_connection((host, port), timeout=5) as connection:
        assert connection.getpeername()[1] == port


def test_a_unix_socket_is_reached(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)
        assert client.getpeername() == path


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("LOCALHOST", True),
        (b"localhost", True),
        (TEST_NET, False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("2001:db8::1", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_only_loopback_counts_as_local(host: str | bytes, local: bool) -> None:
    assert is_local_host(host) is local
