"""Secrets the bridge must be able to read back, sealed with AES-256-GCM under a key file.

Most credentials are stored as hashes (`bridge.security.clients`), because checking them needs
only a comparison. A WS-Security PasswordDigest cannot be checked that way: the server has to
recompute SHA-1(nonce + created + password), so it needs the password itself. Such a secret is
sealed instead: AES-GCM with a fresh 96-bit nonce per seal, and the row it belongs to (a client
id) as associated data, so a sealed value copied onto another client's row does not open.

The key is 32 random bytes, base64 in a file (`wss.key` in `token_keys_dir`) made on first use,
readable by its owner only, and shared by every node like the token signing keys. It is read
lazily, so a process that never seals or opens anything never touches it. Whoever holds the key
file and the database can read the sealed secrets: keep the file off the database's backups.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.domain.errors import ConfigurationError
from bridge.settings import Settings

WSS_KEY_FILE = "wss.key"
KEY_BYTES = 32
NONCE_BYTES = 12
# Written in front of every sealed value: another format (or key scheme) later gets another.
VERSION = "v1"


class Sealer:
    """Seals and opens short secrets with the AES-GCM key in `path` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._aead: AESGCM | None = None
        self._lock = threading.Lock()

    def seal(self, secret: str, context: str) -> str:
        """`secret` encrypted and bound to `context` (the row's id), as printable text."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, secret.encode(), context.encode())
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        """The secret sealed under `context`; `ConfigurationError` when it does not open (another
        key file, or a value that is not ours): no credential sealed with it can be checked."""
        version, _, payload = sealed.partition(".")
        try:
            if version != VERSION:
                raise ValueError(version)
            raw = base64.urlsafe_b64decode(payload.encode())
            opened = self._cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
            return opened.decode()
        except (ValueError, binascii.Error, InvalidTag, UnicodeDecodeError):
            raise ConfigurationError(
                f"a sealed secret does not open with the key in {self.path}: was the key file "
                "replaced? Issue new WS-Security passwords, or restore the key"
            ) from None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            with self._lock:
                if self._aead is None:
                    self._aead = AESGCM(load_key(self.path))
        return self._aead


def wss_sealer(settings: Settings) -> Sealer:
    """The sealer of WS-Security passwords: `wss.key` in `token_keys_dir`."""
    return Sealer(settings.token_keys_dir / WSS_KEY_FILE)


def load_key(path: Path) -> bytes:
    """The key in `path`, made (owner-only, never overwriting one) if there is none yet."""
    if not path.exists():
        _write_key(path)
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{path} must hold {KEY_BYTES} random bytes in base64")
    return key


def _write_key(path: Path) -> None:
    """Written whole to a private temporary file, then linked into place: a node starting at the
    same moment sees either no key or the complete key, and the first link wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.b64encode(AESGCM.generate_key(bit_length=8 * KEY_BYTES)) + b"\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        os.unlink(temporary)
