"""How core banking compares a holder name given by a caller with the registered one.

- FULL: the same name once Unicode-normalised (NFC) and with runs of whitespace collapsed;
- PARTIAL, a close match: equal once case, accents and punctuation are ignored ("nguyen van an"
  for "Nguyễn Văn An", "đ" read as "d", "ß" as "ss"), or equal once spaces are removed as well
  ("山田太郎" for "山田 太郎"), or one name's words are a subset of the other's covering at least
  half of them ("Großmann" for "Jürgen Großmann", "Văn An Nguyễn" for "Nguyễn Văn An");
- NONE otherwise.
"""

from __future__ import annotations

import re
import unicodedata

FULL = "FULL"
PARTIAL = "PARTIAL"
NONE = "NONE"

_NOT_A_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
_UNDECOMPOSED = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})


def name_match(given: str, registered: str) -> str:
    if _normalised(given) == _normalised(registered):
        return FULL
    left, right = _folded(given), _folded(registered)
    if left and (left == right or left.replace(" ", "") == right.replace(" ", "")):
        return PARTIAL
    words, registered_words = set(left.split()), set(right.split())
    smaller, larger = sorted((words, registered_words), key=len)
    if smaller and smaller <= larger and 2 * len(smaller) >= len(larger):
        return PARTIAL
    return NONE


def _normalised(name: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip()


def _folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSED))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", _NOT_A_WORD.sub(" ", bare.casefold())).strip()
