"""The outside services a test may need (PostgreSQL, Redis, Chromium) being absent."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def service_unavailable(reason: str) -> NoReturn:
    """Skip, or fail when CI requires the real services (BRIDGE_REQUIRE_SERVICES=1)."""
    if os.environ.get("BRIDGE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)
