"""The key that signs the dashboard's sessions: configured, or a file made once beside the token
signing keys and shared by every node that shares them."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.domain.errors import ConfigurationError
from bridge.settings import Settings
from bridge.ui.keys import KEY_FILE, key_file, session_key
from tests.common.ui import UI, sign_in
from tests.credentials import CHEAP, Credentials


def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    keys = tmp_path / "keys"

    first = key_file(keys)
    second = key_file(keys)

    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE((keys / KEY_FILE).stat().st_mode) == 0o600
    assert [p.name for p in keys.iterdir()] == [KEY_FILE]


def test_processes_making_the_key_at_once_all_get_the_same_one(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda _: key_file(tmp_path), range(16)))

    assert len(made) == 1
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]


def test_a_configured_key_wins_and_makes_no_file(tmp_path: Path) -> None:
    settings = Settings(ui_secret_key="k" * 40, token_keys_dir=tmp_path)

    assert session_key(settings) == "k" * 40
    assert list(tmp_path.iterdir()) == []


def test_a_short_configured_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        session_key(Settings(ui_secret_key="short", token_keys_dir=tmp_path))


def test_a_login_on_one_node_holds_on_another_sharing_the_keys(
    ui_settings: Settings, ui_bridge: Bridge, operator: Credentials
) -> None:
    first = Client(ui_bridge)
    sign_in(first, operator.client.id, operator.secret)
    other: Bridge = create_app(ui_settings)
    other.security.clients.hasher = CHEAP
    try:
        second = Client(other)
        cookie = first.get_cookie("bridge_ui", path=UI)
        assert cookie is not None
        second.set_cookie("bridge_ui", cookie.value, path=UI)

        assert second.get(UI + "/").status_code == 200
    finally:
        other.engine.dispose()
