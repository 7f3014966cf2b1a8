"""Settings come from defaults, a TOML file and BRIDGE_* variables; a bad one is named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.domain.errors import ConfigurationError
from bridge.settings import load_settings


def test_defaults_run_everything_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIDGE_SCHEDULER")  # the test suite's own default (tests/conftest.py)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.simulators
    assert settings.scheduler
    assert settings.upstream_url("corebank") == "http://127.0.0.1:8080/sims/corebank"


def test_toml_file_then_environment_take_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\npublic_url = "https://bridge.example"\n')
    monkeypatch.setenv("BRIDGE_PORT", "9100")
    settings = load_settings(config)
    assert (settings.host, settings.port) == ("0.0.0.0", 9100)
    assert settings.upstream_url("payroll") == "https://bridge.example/sims/payroll"


def test_bad_environment_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_PORT", "eighty")
    with pytest.raises(
        ConfigurationError, match=r"port \(BRIDGE_PORT\): Input should be a valid integer"
    ):
        load_settings()


def test_unknown_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text("prot = 8080\n")
    with pytest.raises(ConfigurationError, match="prot"):
        load_settings(config)


def test_unsupported_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigurationError, match="sqlite:// or postgresql://"):
        load_settings()


def test_missing_settings_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_toml_syntax_error_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(ConfigurationError, match=r"bridge\.toml"):
        load_settings(config)
