"""Shared fixtures. Unit tests never reach the network: only loopback servers a test starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.mapping import Mappings

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def mappings() -> Mappings:
    return Mappings.load()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
