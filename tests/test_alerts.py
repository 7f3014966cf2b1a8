"""The alerting rules shipped in ops/prometheus: valid, tested by promtool, and naming only
families the bridge serves (a renamed metric must not silence an alert)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.common.live import LiveBridge

RULES = Path(__file__).parents[1] / "ops" / "prometheus"
# Series Prometheus makes itself, not the bridge.
PROMETHEUS_OWN = {"up"}


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("BRIDGE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{name} not installed (Debian package `{package}`)")
        pytest.skip(f"{name} not installed (Debian package `{package}`)")
    return found


def _run(*args: str, tool: str = "promtool", package: str = "prometheus") -> None:
    done = subprocess.run(
        [_tool(tool, package), *args], cwd=RULES, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _served_series(live: LiveBridge) -> set[str]:
    """Every series name the bridge's /metrics declares, with or without samples yet."""
    text = requests.get(f"{live.url}/metrics", timeout=15).text
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in ("", "_total", "_bucket", "_count", "_sum")
    }


def test_the_rules_are_valid() -> None:
    _run("check", "rules", "alerts.yml")


def test_every_alert_fires_as_its_unit_tests_say() -> None:
    _run("test", "rules", "alerts_test.yml")


def test_the_example_prometheus_configuration_is_valid() -> None:
    _run("check", "config", "prometheus.yml")


def test_the_example_alertmanager_configuration_is_valid() -> None:
    _run("check-config", "alertmanager.yml", tool="amtool", package="prometheus-alertmanager")


def test_every_alert_has_a_unit_test() -> None:
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    tested = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts - tested == set()


def test_the_rules_name_only_series_the_bridge_serves(live_bridge: LiveBridge) -> None:
    served = _served_series(live_bridge)
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    named = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\b(bridge_[a-z_]+|up)\b", rule["expr"])
    }
    named = {name.removesuffix("_bucket") for name in named}
    assert named - served - PROMETHEUS_OWN == set()


def test_the_grafana_dashboard_queries_only_series_the_bridge_serves(
    live_bridge: LiveBridge,
) -> None:
    served = _served_series(live_bridge)
    dashboard = json.loads((RULES.parent / "grafana" / "bridge.json").read_text())
    named = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bbridge_[a-z_]+\b", target["expr"])
    }
    assert named
    assert named - served == set()
