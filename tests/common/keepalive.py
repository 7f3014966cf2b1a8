"""An HTTP/1.1 server on loopback that keeps connections alive, as real upstreams do, and answers
each request with the raw bytes a test scripts (the hostile proxy closes every connection, so a
reply that could leak into the next call on the same connection is tested here).

    with KeepAliveServer() as server:
        server.answers.append(reply(b"x" * 2000) + b"garbage after the reply")
        ...                           # later requests get `reply(OK)` unless scripted
        server.connections, server.bodies, server.headers
"""

from __future__ import annotations

import io
import socket
import socketserver
import ssl
import threading
from collections import deque
from types import TracebackType

OK = b"<ok/>"


def reply(body: bytes, *, status: str = "200 OK", content_type: str = "text/xml") -> bytes:
    """A whole HTTP/1.1 response that lets the connection live on."""
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class KeepAliveServer:
    """Answers the requests of each connection in turn, on that connection, until the client
    hangs up: the next scripted answer from `answers`, else `reply(OK)`. With `tls`, a
    server-side TLS context, it speaks HTTPS."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.answers: deque[bytes] = deque()
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []  # each request's, names in lower case
        self.connections = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._serve(self.request, tls)

        self._server = socketserver.ThreadingTCPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://{host}:{self._server.server_address[1]}"

    def __enter__(self) -> KeepAliveServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        with self._lock:
            for connection in self._open:
                connection.close()  # ends the handlers waiting for a next request
        self._server.server_close()
        self._thread.join(timeout=10)

    def _serve(self, raw: socket.socket, tls: ssl.SSLContext | None) -> None:
        with self._lock:
            self.connections += 1
            self._open.add(raw)
        connection = raw
        try:
            if tls is not None:
                connection = tls.wrap_socket(connection, server_side=True)
            reader = connection.makefile("rb")
            while (request := _read_request(reader)) is not None:
                with self._lock:
                    self.headers.append(request[0])
                    self.bodies.append(request[1])
                    answer = self.answers.popleft() if self.answers else reply(OK)
                connection.sendall(answer)
        except OSError:  # the client hung up (or its TLS handshake failed)
            pass
        finally:
            with self._lock:
                self._open.discard(raw)
            connection.close()


def _read_request(reader: io.BufferedReader) -> tuple[dict[str, str], bytes] | None:
    """The headers and body of the next request on the connection, or None once the client
    hangs up."""
    if not reader.readline():
        return None
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, reader.read(int(headers.get("content-length", 0)))
