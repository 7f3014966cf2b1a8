"""Who tokens are issued by and for in the security tests."""

from __future__ import annotations

ISSUER = "https://bridge.test"
AUDIENCE = "bridge"
