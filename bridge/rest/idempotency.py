"""`Idempotency-Key` for POST views, in one line: `@idempotent`.

The rules (IETF draft "The Idempotency-Key HTTP Header Field", and Stripe's behaviour):

- A request without the header runs as usual. A key must be 1 to 255 printable ASCII
  characters, or the request is refused with a 400 before anything runs.
- Keys belong to the calling client; the fingerprint of a request is its method, its path and
  its JSON body (parsed and re-serialised with sorted keys, so whitespace and key order do not
  matter; a body that is not JSON is taken byte for byte).
- The first request with a key runs; its response, whatever it was (2xx, 4xx including a
  refused body, 5xx), is stored for 24 hours and replayed byte for byte to every retry with the
  same fingerprint, with `Idempotent-Replayed: true`.
- The exceptions are the answers that tell the client to try the same request again: 409 (the
  same transfer is being worked on by another request), 429 and 503 (Retry-After). Storing
  those would turn "retry" into "never": their key is released and the retry runs. That is safe
  because the transfer service is itself idempotent by MsgId.
- The same key with another fingerprint is a 422; the same key while its first request still
  runs is a 409 with Retry-After. Concurrent requests with one key: the store's primary key
  lets exactly one of them run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import suppress
from functools import wraps
from typing import ParamSpec

import orjson
from flask import Response, current_app, request

from bridge.domain.errors import InProgress, KeyReused, MappingError
from bridge.rest.problems import problem
from bridge.rest.wire import client_id
from bridge.store.idempotency import IdempotencyStore, KeyRecord, StoredResponse

P = ParamSpec("P")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
EXTENSION = "bridge.idempotency"
# Set on views wrapped by `idempotent`, so the OpenAPI document can show the header for them.
MARK = "__bridge_idempotent__"

_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")
_RETRY_STATUSES = frozenset({409, 429, 503})
# Headers that belong to the response itself and are replayed with it.
_REPLAYED_HEADERS = ("Location", "Content-Location")


def idempotent(view: Callable[P, Response]) -> Callable[P, Response]:
    @wraps(view)
    def once(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            raise MappingError(HEADER, "1 to 255 printable ASCII characters", key[:80])
        store: IdempotencyStore = current_app.extensions[EXTENSION]
        fingerprint = _fingerprint()
        record, held = store.claim(client_id(), key, fingerprint)
        if not held:
            return _earlier(record, fingerprint)
        try:
            response = view(*args, **kwargs)
        except Exception as exc:  # an error is a first response like any other
            response = problem(exc)
        except BaseException:
            store.release(record)
            raise
        if response.status_code in _RETRY_STATUSES:
            store.release(record)
        else:
            store.complete(record, _stored(response))
        return response

    setattr(once, MARK, True)
    return once


def _earlier(record: KeyRecord, fingerprint: str) -> Response:
    """The answer to a request whose key another request already holds."""
    if record.fingerprint != fingerprint:
        raise KeyReused(
            f"{HEADER} {record.key!r} was already used for another request "
            "(method, path or body); use a new key for a new request"
        )
    if record.response is None:
        raise InProgress(f"the first request with {HEADER} {record.key!r} is still running")
    stored = record.response
    headers = {**stored.headers, REPLAYED: "true"}
    return Response(
        stored.body, status=stored.status_code, headers=headers, content_type=stored.content_type
    )


def _fingerprint() -> str:
    body = request.get_data(cache=True)
    with suppress(orjson.JSONDecodeError):  # not JSON: the bytes themselves
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _stored(response: Response) -> StoredResponse:
    return StoredResponse(
        status_code=response.status_code,
        content_type=response.content_type or "",
        headers={
            name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers
        },
        body=response.get_data(),
    )
