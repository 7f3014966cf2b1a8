"""A hostile network between the bridge and its upstreams: a fault-injecting HTTP proxy on
loopback, and the simulators on a port of their own behind it.

`HostileProxy(target)` listens on 127.0.0.1 and forwards each SOAP call to `target` (a simulator's
URL), unless a test has scripted a `Shape` for the call's operation (named by its SOAPAction):
then it answers that shape instead, before or after forwarding. "After" means the upstream got
the call and applied it, and the bridge is not told so in any usable way: exactly the answers
after which only asking the upstream can say what happened.

    with HostileProxy(sim_url, client_timeout=0.5) as proxy:
        proxy.script("PostPayment", Shape.HTML_5XX)        # every PostPayment, until behave()
        proxy.script("InquirePayment", Shape.RESET_BEFORE, times=1)
        ...
        proxy.behave()                                      # forward everything from now on

Every answer closes its connection, so a shape never leaks into the next call. A connection held
open (the timeouts) is let go once the client hangs up, or a few client timeouts later.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from urllib.parse import urlsplit

from sqlalchemy import Engine
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from bridge.sims import create_simulators

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}
)


class Shape(StrEnum):
    """What the proxy answers instead of the upstream's reply."""

    TIMEOUT_BEFORE = "timeout-before"  # never forwarded; no answer until the client gives up
    TIMEOUT_AFTER = "timeout-after"  # forwarded and applied; the reply never comes
    RESET_BEFORE = "reset-before"  # connection reset before forwarding
    RESET_AFTER = "reset-after"  # forwarded and applied, then the connection reset
    SERVER_FAULT = "server-fault-503"  # forwarded; a SOAP Server fault with HTTP 503
    HTML_5XX = "xhtml-502"  # forwarded; a well-formed XHTML error page with HTTP 502
    HTML_200 = "html-200"  # forwarded; an HTML page (not XML) with HTTP 200
    EMPTY_200 = "empty-200"  # forwarded; HTTP 200 with no body
    EMPTY_SOAP_BODY = "empty-soap-body-500"  # forwarded; an envelope with an empty Body
    TRUNCATED = "truncated"  # forwarded; the first half of the real reply, as a whole reply
    CUT_SHORT = "cut-short"  # forwarded; Content-Length of the real reply, half of it sent
    ALIEN_REPLY = "alien-200"  # forwarded; a SOAP envelope whose body element nobody expects
    DRIP = "drip"  # forwarded; the real reply trickled in, slower in total than the timeout
    CLIENT_FAULT = "client-fault"  # never forwarded; a SOAP Client fault: the one true "no"

    @property
    def forwards(self) -> bool:
        """Whether the upstream gets the call (and applies it) before the proxy answers."""
        return self not in (Shape.TIMEOUT_BEFORE, Shape.RESET_BEFORE, Shape.CLIENT_FAULT)


# Every shape but the Client fault leaves the outcome unknown.
UNKNOWN_OUTCOME = tuple(shape for shape in Shape if shape is not Shape.CLIENT_FAULT)


@dataclass(frozen=True)
class Seen:
    """One call through the proxy: its operation and what the proxy did with it."""

    operation: str
    shape: Shape | None  # None: forwarded and answered faithfully


@dataclass
class _Rule:
    shape: Shape
    times: int | None  # None: until behave()


@dataclass(frozen=True)
class _Request:
    headers: dict[str, str]
    body: bytes


class HostileProxy:
    def __init__(self, target: str = "", *, client_timeout: float) -> None:
        """`target` may be set later (`proxy.target = url`), before the first call."""
        self.target = target
        self.client_timeout = client_timeout
        self.seen: list[Seen] = []
        self._rules: dict[str, _Rule] = {}
        self._lock = threading.Lock()
        serve = self._serve

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HostileProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, operation: str, shape: Shape, *, times: int | None = None) -> None:
        """Answer `shape` to the next `times` calls of `operation` (all of them: None)."""
        with self._lock:
            self._rules[operation] = _Rule(shape, times)

    def behave(self) -> None:
        """Forward every call faithfully from now on, and forget the calls seen."""
        with self._lock:
            self._rules.clear()
            self.seen.clear()

    def shapes(self, operation: str) -> list[Shape | None]:
        """What the proxy did with each call of `operation` so far, oldest first."""
        with self._lock:
            return [seen.shape for seen in self.seen if seen.operation == operation]

    # -- one connection, one call ----------------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(max(5.0, self.client_timeout * 10))
        try:
            request = _read_request(client)
            if request is None:
                return
            operation = request.headers.get("soapaction", "").strip().strip('"')
            shape = self._take(operation)
            with self._lock:
                self.seen.append(Seen(operation, shape))
            self._answer(client, request, shape)
        except (OSError, ValueError):
            pass  # the client gave up first: that is what some shapes are for
        finally:
            with suppress(OSError):
                client.close()

    def _take(self, operation: str) -> Shape | None:
        with self._lock:
            rule = self._rules.get(operation)
            if rule is None:
                return None
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    del self._rules[operation]
            return rule.shape

    def _answer(self, client: socket.socket, request: _Request, shape: Shape | None) -> None:
        if shape is Shape.TIMEOUT_BEFORE:
            return self._hold(client)
        if shape is Shape.RESET_BEFORE:
            return _reset(client)
        if shape is Shape.CLIENT_FAULT:
            return _send(client, 500, _fault("soap:Client", "refused by a hostile proxy"))
        status, content_type, body = self._forward(request)
        if shape is None:
            return _send(client, status, body, content_type)
        if shape is Shape.TIMEOUT_AFTER:
            return self._hold(client)
        if shape is Shape.RESET_AFTER:
            return _reset(client)
        if shape is Shape.SERVER_FAULT:
            return _send(client, 503, _fault("soap:Server", "upstream overloaded"))
        if shape is Shape.HTML_5XX:
            return _send(client, 502, _XHTML_502, "text/html; charset=utf-8")
        if shape is Shape.HTML_200:
            return _send(client, 200, _HTML_200, "text/html; charset=utf-8")
        if shape is Shape.EMPTY_200:
            return _send(client, 200, b"")
        if shape is Shape.EMPTY_SOAP_BODY:
            return _send(client, 500, _envelope(b""))
        if shape is Shape.TRUNCATED:
            return _send(client, status, body[: len(body) // 2])
        if shape is Shape.CUT_SHORT:
            client.sendall(_head(status, content_type, len(body)) + body[: len(body) // 2])
            return _reset(client)
        if shape is Shape.ALIEN_REPLY:
            return _send(client, 200, _envelope(b'<x:Unexpected xmlns:x="urn:nobody"/>'))
        # DRIP: twenty pieces, each well within the client's timeout, all of them well beyond it.
        client.sendall(_head(status, content_type, len(body)))
        step = max(1, -(-len(body) // 20))
        for start in range(0, len(body), step):
            time.sleep(self.client_timeout / 5)
            client.sendall(body[start : start + step])
        return None

    def _forward(self, request: _Request) -> tuple[int, str, bytes]:
        target = urlsplit(self.target)
        connection = http.client.HTTPConnection(
            target.hostname or "127.0.0.1", target.port or 80, timeout=30
        )
        try:
            headers = {
                name: value
                for name, value in request.headers.items()
                if name not in _HOP_BY_HOP and name not in ("host", "content-length")
            }
            connection.request("POST", target.path or "/", body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            content_type = response.getheader("Content-Type") or "text/xml; charset=utf-8"
            return response.status, content_type, body
        finally:
            connection.close()

    def _hold(self, client: socket.socket) -> None:
        """Say nothing until the client hangs up (or long after it should have)."""
        client.settimeout(self.client_timeout * 6)
        with suppress(OSError):
            while client.recv(1024):
                pass


def _read_request(client: socket.socket) -> _Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            raise ValueError("request body cut short")
        body += chunk
    return _Request(headers, body[:length])


def _head(status: int, content_type: str, length: int) -> bytes:
    reason = http.client.responses.get(status, "Unknown")
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


def _send(
    client: socket.socket, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8"
) -> None:
    client.sendall(_head(status, content_type, len(body)) + body)


def _reset(client: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def _envelope(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="'
        + SOAP_ENV.encode()
        + b'"><soap:Body>'
        + body
        + b"</soap:Body></soap:Envelope>"
    )


def _fault(code: str, text: str) -> bytes:
    return _envelope(
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>"
        "</soap:Fault>".encode()
    )


_XHTML_502 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
    b"<head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    b"<p>The proxy server received an invalid response from an upstream server.</p></body></html>"
)
_HTML_200 = (
    b"<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>"
    b"<body><p>We'll be back soon.<br></body></html>"
)


@contextmanager
def serve_simulators(engine: Engine) -> Iterator[str]:
    """The four upstream simulators on a loopback port of their own (werkzeug, threaded), on
    `engine`'s database; yields their base URL (`{base}/sims/<name>`)."""
    server = make_server("127.0.0.1", 0, NotFound(), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    server.app = DispatcherMiddleware(NotFound(), dict(create_simulators(engine, base)))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="simulators", daemon=True
    )
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
