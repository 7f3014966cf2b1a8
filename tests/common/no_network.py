"""The guard that keeps tests off the network: a connection (or a name lookup, or a datagram)
to anything but loopback or a Unix socket raises `NetworkRefused` before anything is sent.

Installed for the whole session by an autouse fixture of tests/conftest.py, in the manner of
zeep's `no_requests`. It watches this process's Python sockets; subprocesses (`bridge serve`,
Chromium) and C clients (libpq) are the test's own loopback business.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class NetworkRefused(RuntimeError):
    """A test tried to reach a host beyond loopback. Not an OSError on purpose: code that
    handles an unreachable upstream must not swallow it and pass by accident."""

    def __init__(self, what: str, address: object) -> None:
        super().__init__(
            f"{what} {address!r} refused: tests may reach only loopback (127.0.0.0/8, ::1, "
            "localhost) and Unix sockets; start the server the test needs on 127.0.0.1"
        )
        self.address = address


def is_local_host(host: object) -> bool:
    """Whether `host` names this machine's loopback (a name is not resolved to decide)."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.split("%", 1)[0].strip("[]").rstrip(".").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def is_local_address(address: object) -> bool:
    """Whether a socket address is loopback or a Unix socket path (str, bytes or abstract)."""
    if isinstance(address, str | bytes | bytearray):
        return True  # AF_UNIX: a path, or an abstract name
    if isinstance(address, tuple) and address:
        return is_local_host(address[0])
    return False


def _is_numeric(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    return True


@contextmanager
def refuse_network() -> Iterator[None]:
    """While entered, Python sockets of this process reach loopback and Unix sockets only."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def refuse(sock: socket.socket, address: Any) -> NetworkRefused:
        # Closed here: the caller's cleanup catches OSError only, and would leak the socket.
        sock.close()
        return NetworkRefused("connection to", address)

    def connect(self: socket.socket, address: Any) -> None:
        if not is_local_address(address):
            raise refuse(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not is_local_address(address):
            raise refuse(self, address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        address = args[-1]
        if not is_local_address(address):
            raise NetworkRefused("datagram to", address)
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # Numeric addresses resolve without asking anyone (connect decides on them); a name
        # other than localhost would be a DNS query.
        text = host.decode("ascii", "replace") if isinstance(host, bytes) else host
        if text and not is_local_host(text) and not _is_numeric(text):
            raise NetworkRefused("name lookup of", text)
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket.socket, "sendto", sendto)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield
