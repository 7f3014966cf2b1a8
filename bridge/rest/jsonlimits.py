"""Limits on what the REST door reads: the body's bytes and how deep its JSON nests, each
enforced before the body is parsed and refused naming the limit.

    LimitedRequest                 the app's request class: a body longer than
                                   ``max_content_length`` (MAX_CONTENT_LENGTH, or a view's own)
                                   is a 413, by Content-Length before reading, or as soon as
                                   reading a chunked body passes the limit
    check_depth(body, max_depth)   HostileDocument (problem+json 400) when arrays and objects
                                   nest deeper than `max_depth`
    check_json_body(body)          the same with the app's limit, for readers that parse bytes
                                   themselves (`schemas.JsonBody`: pydantic-core)
    JsonProvider                   Flask's JSON provider whose `loads` checks first and names
                                   where a body that does not parse broke
                                   (``request.get_json``, flask-openapi3's body models)

Why a request class: werkzeug 3.1 checks ``max_content_length`` on Content-Length, but reading a
chunked body through `get_data()` stops at the limit and returns what it read, silently cut
(its `LimitedStream` raises only on a read after the limit, which `readall` does not make), and
its 413 says "The data value transmitted exceeds the capacity limit", not which limit.

Why a scan of the bytes for depth: the parsers behind the door each stop at their own depth
(orjson at 1,024, pydantic-core near 250, the standard library's `json` not at all: a
RecursionError, a 500), none at ours. Parsing first and then walking the objects would check only
after the whole document was built, and the walk costs more than the parse (measured: 64 KiB of
22,000 empty arrays, 0.7 ms to parse with orjson, 7.9 ms to walk). The scan builds nothing: it
drops escapes and strings and keeps the brackets with C-level bytes methods, then sums them.
64 KiB of transfers takes about 0.3 ms, 64 KiB of brackets about 0.9 ms (a pure-Python loop over
the bytes: 1.8 and 3.4 ms); a body with no more brackets than the limit (almost every body)
costs two `bytes.count` calls.
"""

from __future__ import annotations

import json
from itertools import accumulate
from typing import IO, TYPE_CHECKING, Any, cast

from flask import Request, current_app
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from bridge.domain.errors import HostileDocument
from bridge.rest.jsonrules import check_unique_keys
from bridge.rest.problems import InvalidJson

if TYPE_CHECKING:
    from flask.sansio.app import App

MAX_DEPTH = 32
# Brackets outside strings become steps: +1 for [ and {, -1 (0xff as a signed byte) for ] and }.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def depth(data: bytes) -> int:
    """How deep arrays and objects nest in the JSON document `data` (0 for a scalar).

    Exact for valid JSON; for invalid JSON some number the parser's refusal makes moot."""
    if b"\\" in data:
        # In valid JSON every backslash is in a string and starts an escape; dropping the
        # escaped backslashes first keeps the quote of ``"\\"`` closing its string.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(data.split(b'"')[::2])
    steps = outside_strings.translate(_STEPS, _NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def check_depth(data: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Refuse `data` if its arrays and objects nest deeper than `max_depth` levels."""
    # A document with no more brackets than the limit cannot nest deeper than it.
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    if depth(data) > max_depth:
        raise HostileDocument(
            f"the JSON body nests arrays and objects deeper than {max_depth} levels, the limit"
        )


class JsonProvider(DefaultJSONProvider):
    """Flask's default JSON provider, refusing a document nested deeper than `max_depth`
    before parsing it, and one with a key twice in an object (`jsonrules`).

    Its refusals are the bridge's errors, not ``ValueError``: `HostileDocument` for a document
    too deep, `InvalidJson` naming where a document that does not parse broke (Flask would
    answer a ``ValueError`` with a bare 400 that names nothing). So ``get_json(silent=True)``,
    which flask-openapi3 uses for body models, does not turn a bad body into ``None`` either:
    the caller learns what was wrong."""

    def __init__(self, app: App, *, max_depth: int = MAX_DEPTH) -> None:
        super().__init__(app)
        self.max_depth = max_depth

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            check_depth(_utf8(s), self.max_depth)
            check_unique_keys(s)
            return super().loads(s, **kwargs)
        except json.JSONDecodeError as exc:
            raise InvalidJson(
                f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        except UnicodeDecodeError as exc:
            raise InvalidJson(
                f"the body is not valid JSON: not {exc.encoding} at byte {exc.start}"
            ) from None


def _utf8(s: str | bytes) -> bytes:
    """`s` as UTF-8 bytes, the only encoding the scan reads right: the standard library's `json`
    also takes UTF-16 and UTF-32 bytes, where a bracket's byte can be half of another character."""
    if isinstance(s, str):
        return s.encode("utf-8", "surrogatepass")
    encoding = json.detect_encoding(s)
    if encoding in ("utf-8", "utf-8-sig"):
        return s
    return s.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")


def check_json_body(data: bytes) -> None:
    """`check_depth` with the limit of the current app's JSON provider (`MAX_DEPTH` when the
    app has another provider)."""
    provider = current_app.json
    check_depth(data, provider.max_depth if isinstance(provider, JsonProvider) else MAX_DEPTH)


class LimitedRequest(Request):
    """Flask's request, refusing a body longer than `max_content_length` with a 413 that names
    the limit, however the body is sent and read."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if limit is not None and not self.shallow:
            length = self.content_length
            if length is not None and length > limit:
                raise body_too_large(limit)
            if length is None and "wsgi.input_terminated" in self.environ:
                return cast(IO[bytes], _MaxLengthStream(self.environ["wsgi.input"], limit))
        stream: IO[bytes] = super().stream
        return stream


def body_too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"the request body exceeds the limit of {limit} bytes")


class _MaxLengthStream(LimitedStream):
    """A chunked body, read up to `limit` bytes. On reaching the limit it looks one byte
    further: more is a 413, nothing is the end (werkzeug's own stream cuts the body there when
    read whole, and refuses a body of exactly the limit when read until empty)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit, is_max=True)
        self._ended = False

    def on_exhausted(self) -> None:
        if self._ended:
            return
        if self._stream.read(1):
            raise body_too_large(self.limit)
        self._ended = True

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted:
            self.on_exhausted()
        return data
