"""The key that signs the dashboard's session cookies.

A configured `ui_secret_key` wins. Otherwise the key is a file beside the token signing keys
(`token_keys_dir/ui-session.key`), made on first use: every node that shares the keys directory
shares the key, so a login made on one node is good on all of them, and a restart does not sign
everybody out. The file is written whole under a temporary name and linked into place, so two
processes making it at once both end up with the one that won, never with half of it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from bridge.domain.errors import ConfigurationError
from bridge.settings import Settings

KEY_FILE = "ui-session.key"
MIN_KEY_CHARS = 32


def session_key(settings: Settings) -> str:
    """The signing key of the dashboard's sessions, from the settings or the key file."""
    if settings.ui_secret_key:
        if len(settings.ui_secret_key) < MIN_KEY_CHARS:
            raise ConfigurationError(
                f"ui_secret_key must be at least {MIN_KEY_CHARS} characters (random, secret)"
            )
        return settings.ui_secret_key
    return key_file(settings.token_keys_dir)


def key_file(directory: Path) -> str:
    """The key in `directory/ui-session.key`, made (readable by its owner only) if missing."""
    path = directory / KEY_FILE
    if not path.exists():
        _create(path)
    key = path.read_text("ascii").strip()
    if len(key) < MIN_KEY_CHARS:
        raise ConfigurationError(f"{path} holds no usable key: delete it to have a new one made")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ui-session.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:  # mkstemp makes it 0600
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
