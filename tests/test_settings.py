"""Settings come from defaults, a TOML file and BRIDGE_* variables; a bad one is named clearly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bridge.domain.errors import ConfigurationError
from bridge.settings import load_settings, schedule_period


def test_defaults_run_everything_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIDGE_SCHEDULER")  # the test suite's own default (tests/conftest.py)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.simulators is None  # auto: on, since the host is loopback
    assert settings.run_simulators
    assert settings.scheduler
    assert settings.upstream_url("corebank") == ""  # this process's simulator
    assert settings.unconfigured_upstreams() == []


def test_toml_file_then_environment_take_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\npublic_url = "https://bridge.example"\n')
    monkeypatch.setenv("BRIDGE_PORT", "9100")
    settings = load_settings(config)
    assert (settings.host, settings.port) == ("0.0.0.0", 9100)
    assert settings.base_url == "https://bridge.example"


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


@pytest.mark.parametrize(
    ("host", "simulators", "on"),
    [
        ("127.0.0.1", None, True),
        ("localhost", None, True),
        ("::1", None, True),
        ("0.0.0.0", None, False),
        ("::", None, False),
        ("10.1.2.3", None, False),
        ("bridge.internal", None, False),
        ("0.0.0.0", "true", True),
        ("127.0.0.1", "false", False),
    ],
)
def test_simulators_run_on_a_loopback_host_unless_set_either_way(
    monkeypatch: pytest.MonkeyPatch, host: str, simulators: str | None, on: bool
) -> None:
    monkeypatch.setenv("BRIDGE_HOST", host)
    if simulators is not None:
        monkeypatch.setenv("BRIDGE_SIMULATORS", simulators)

    settings = load_settings()

    assert settings.run_simulators is on
    decided, why = settings.simulators_decision()
    assert decided is on
    assert (f"simulators = {simulators}" if simulators else f"host {host} is") in why


def test_without_simulators_every_unset_upstream_url_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIDGE_SIMULATORS", "false")
    monkeypatch.setenv("BRIDGE_PAYROLL_URL", "https://payroll.example/soap")

    settings = load_settings()

    assert settings.unconfigured_upstreams() == [
        "corebank_url (BRIDGE_COREBANK_URL)",
        "logistics_url (BRIDGE_LOGISTICS_URL)",
        "classifier_url (BRIDGE_CLASSIFIER_URL)",
    ]


def test_a_bad_schedule_is_refused_naming_the_variable_and_both_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIDGE_HOUSEKEEPING_SCHEDULE", "every 5 days")
    with pytest.raises(
        ConfigurationError,
        match=r"housekeeping_schedule \(BRIDGE_HOUSEKEEPING_SCHEDULE\): "
        r".*neither a crontab expression nor 'every <n>s\|m\|h'",
    ):
        load_settings()


@pytest.mark.parametrize(
    ("expression", "period"),
    [("every 90s", timedelta(seconds=90)), ("every 2h", timedelta(hours=2)), ("0 2 * * *", None)],
)
def test_a_schedule_names_its_period_or_is_a_crontab(
    expression: str, period: timedelta | None
) -> None:
    assert schedule_period(expression) == period
