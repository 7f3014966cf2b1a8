"""Hostile texts, shared by every input test: `tests/data/hostile/strings.json`, one file.

`HOSTILE_STRINGS` maps a name to its text; `hostile_text()` draws from them and from generated
text mixing ordinary characters with controls, surrogates and bidirectional overrides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

STRINGS = Path(__file__).parent / "data" / "hostile" / "strings.json"


def load_hostile_strings(path: Path = STRINGS) -> dict[str, str]:
    """The file's entries by name: a text, or {"text", "repeat"} for a long one."""
    entries: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: entry if isinstance(entry, str) else entry["text"] * entry["repeat"]
        for name, entry in entries.items()
        if not name.startswith("_")
    }


HOSTILE_STRINGS = load_hostile_strings()

_HOSTILE_CHARACTERS = st.one_of(
    st.characters(codec="utf-8"),
    st.characters(categories=("Cc", "Cs", "Cf", "Nd")),
)


def hostile_text() -> st.SearchStrategy[str]:
    """A text from the file, or a short generated one with controls, surrogates, format
    characters and digits of every script among ordinary characters."""
    generated = st.text(_HOSTILE_CHARACTERS, min_size=1, max_size=40)
    return st.one_of(st.sampled_from(sorted(HOSTILE_STRINGS.values())), generated)


JSON_VALUES = Path(__file__).parent / "data" / "hostile" / "json_values.json"


def hostile_json_values(path: Path = JSON_VALUES) -> dict[str, str]:
    """Raw JSON texts by name (numbers for money, numbers no float holds, wrong JSON types),
    and every hostile string as a JSON string: each is put in place of one field's value."""
    entries: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    raw = {name: text for name, text in entries.items() if not name.startswith("_")}
    # ASCII with \u escapes: a lone surrogate is sent as JSON can carry it, escaped.
    strings = {name: json.dumps(text) for name, text in HOSTILE_STRINGS.items()}
    return {**raw, **strings}
