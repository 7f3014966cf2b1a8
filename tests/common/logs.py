"""What the `json_lines` fixture (tests/observability/conftest.py) hands a test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Call it for the JSON log lines written so far.
JsonLines = Callable[[], list[dict[str, Any]]]
