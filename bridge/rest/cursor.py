"""Opaque paging cursors: page numbers for transaction lists, keysets for the bridge's own lists,
and `one_page`, the one way a list view fetches a page and the cursor of the next.

Core banking pages by number and size, so a cursor is the next page number bound to the query it
continues: a digest of the account, the dates and the limit. A cursor used with another account,
other dates or another limit is refused (400), because its page number would mean something
else there. The cursor is not signed: it only names a page the caller could ask for anyway, and
it carries a digest rather than the account number, so URLs and logs do not show the account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import orjson

from bridge.domain.errors import MappingError
from bridge.rest.params import MAX_ID

T = TypeVar("T")
PARAMETER = "cursor"
_VERSION = 1
_LAST_PAGE = 2**31 - 1  # core banking's pageNo is an xs:int
_EXPECTED = "the next_cursor of the previous page of this account, from_date, to_date and limit"


def query_digest(account: str, from_date: date, to_date: date, limit: int) -> str:
    bound = f"{account}|{from_date.isoformat()}|{to_date.isoformat()}|{limit}"
    return hashlib.sha256(bound.encode()).hexdigest()[:24]


def encode(page: int, digest: str) -> str:
    return _pack({"v": _VERSION, "p": page, "q": digest})


def decode(cursor: str, digest: str) -> int:
    """The page number `cursor` points to, if it continues the query with this digest."""
    payload = _unpack(cursor, _EXPECTED)
    page = payload.get("p")
    if (
        payload.get("v") != _VERSION
        or payload.get("q") != digest
        or not isinstance(page, int)
        or isinstance(page, bool)
        or not 2 <= page <= _LAST_PAGE
    ):
        raise MappingError(PARAMETER, _EXPECTED, cursor[:80])
    return page


# -- keyset cursors ----------------------------------------------------------------------------
# Lists the bridge keeps itself page by the key of the last item seen, (created_at, id): a page
# then neither skips nor repeats items while new ones arrive, and any filter or limit can follow
# the cursor, so nothing of the query is bound into it.

_KEYSET_VERSION = 1
_KEYSET_EXPECTED = "the next_cursor of a previous page of this list"


def encode_after(created_at: datetime, key: str) -> str:
    """The cursor of a page that continues after the item with this (created_at, key)."""
    return _pack({"v": _KEYSET_VERSION, "t": created_at.isoformat(), "i": key})


def decode_after(cursor: str) -> tuple[datetime, str]:
    """The (created_at, key) a keyset cursor continues after; a 400 naming `cursor` otherwise."""
    payload = _unpack(cursor, _KEYSET_EXPECTED)
    key, moment = payload.get("i"), payload.get("t")
    try:
        if payload.get("v") != _KEYSET_VERSION or not isinstance(key, str):
            raise ValueError("not a keyset cursor")
        created_at = datetime.fromisoformat(moment) if isinstance(moment, str) else None
    except ValueError:
        raise MappingError(PARAMETER, _KEYSET_EXPECTED, cursor[:80]) from None
    if created_at is None or created_at.tzinfo is None:
        raise MappingError(PARAMETER, _KEYSET_EXPECTED, cursor[:80])
    return created_at, key


def decode_id_after(cursor: str) -> int:
    """The id a keyset cursor of a list keyed by row id (the audit log, sync runs and
    deliveries) continues after; a 400 naming `cursor` otherwise, a key that is no id too."""
    _, key = decode_after(cursor)
    if not (key.isascii() and key.isdigit()) or not 1 <= int(key) <= MAX_ID:
        raise MappingError(PARAMETER, _KEYSET_EXPECTED, cursor[:80])
    return int(key)


def one_page(
    fetch: Callable[[int], Sequence[T]], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """A page of at most `limit` items from `fetch(n)`, and the cursor of the next page (None
    on the last): one more item than a page is fetched, and its presence says another follows."""
    found = fetch(limit + 1)
    page = list(found[:limit])
    return page, (cursor_of(page[-1]) if len(found) > limit else None)


# -- the envelope: URL-safe base64 of a small JSON object, unpadded ------------------------------


def _pack(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def _unpack(cursor: str, expected: str) -> dict[str, Any]:
    """The object a cursor packs; a 400 naming `cursor`, saying what was `expected`, otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise MappingError(PARAMETER, expected, cursor[:80]) from None
    if not isinstance(payload, dict):
        raise MappingError(PARAMETER, expected, cursor[:80])
    return payload
