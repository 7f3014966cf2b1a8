"""Opaque paging cursors: page numbers for transaction lists, keysets for the bridge's own lists.

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
from typing import TypeVar

import orjson

from bridge.domain.errors import MappingError

T = TypeVar("T")
PARAMETER = "cursor"
_VERSION = 1
_LAST_PAGE = 2**31 - 1  # core banking's pageNo is an xs:int
_EXPECTED = "the next_cursor of the previous page of this account, from_date, to_date and limit"


def query_digest(account: str, from_date: date, to_date: date, limit: int) -> str:
    bound = f"{account}|{from_date.isoformat()}|{to_date.isoformat()}|{limit}"
    return hashlib.sha256(bound.encode()).hexdigest()[:24]


def encode(page: int, digest: str) -> str:
    payload = orjson.dumps({"v": _VERSION, "p": page, "q": digest})
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode(cursor: str, digest: str) -> int:
    """The page number `cursor` points to, if it continues the query with this digest."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise MappingError(PARAMETER, _EXPECTED, cursor[:80]) from None
    if (
        not isinstance(payload, dict)
        or payload.get("v") != _VERSION
        or payload.get("q") != digest
        or not isinstance(payload.get("p"), int)
        or isinstance(payload.get("p"), bool)
        or not 2 <= payload["p"] <= _LAST_PAGE
    ):
        raise MappingError(PARAMETER, _EXPECTED, cursor[:80])
    page: int = payload["p"]
    return page


# -- keyset cursors ----------------------------------------------------------------------------
# Lists the bridge keeps itself page by the key of the last item seen, (created_at, id): a page
# then neither skips nor repeats items while new ones arrive, and any filter or limit can follow
# the cursor, so nothing of the query is bound into it.

_KEYSET_VERSION = 1
_KEYSET_EXPECTED = "the next_cursor of a previous page of this list"


def encode_after(created_at: datetime, key: str) -> str:
    """The cursor of a page that continues after the item with this (created_at, key)."""
    payload = orjson.dumps({"v": _KEYSET_VERSION, "t": created_at.isoformat(), "i": key})
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_after(cursor: str) -> tuple[datetime, str]:
    """The (created_at, key) a keyset cursor continues after; a 400 naming `cursor` otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if (
            not isinstance(payload, dict)
            or payload.get("v") != _KEYSET_VERSION
            or not isinstance(payload.get("i"), str)
            or not isinstance(payload.get("t"), str)
        ):
            raise ValueError("not a cursor")
        created_at = datetime.fromisoformat(payload["t"])
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise MappingError(PARAMETER, _KEYSET_EXPECTED, cursor[:80]) from None
    if created_at.tzinfo is None:
        raise MappingError(PARAMETER, _KEYSET_EXPECTED, cursor[:80])
    key: str = payload["i"]
    return created_at, key


def one_page(
    fetch: Callable[[int], Sequence[T]], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """A page of at most `limit` items from `fetch(n)`, and the cursor of the next page (None
    on the last): one more item than a page is fetched, and its presence says another follows."""
    found = fetch(limit + 1)
    page = list(found[:limit])
    return page, (cursor_of(page[-1]) if len(found) > limit else None)
