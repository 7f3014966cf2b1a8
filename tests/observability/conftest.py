"""Fixtures for the logging tests: the JSON handler installed for one test, then removed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.observability.logging import configure_logging
from tests.common.logs import JsonLines


@pytest.fixture
def json_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[JsonLines]:
    """The JSON log handler on the root logger; call the fixture for the lines written so far."""
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG")

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]

    try:
        yield read
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
