"""The alerting rules shipped in ops/prometheus: valid, tested by promtool, and naming only
families the bridge serves (a renamed metric must not silence an alert)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.common.live import LiveBridge, free_port, serve_bridge
from tests.credentials import scraper

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


def test_prometheus_scrapes_with_the_example_oauth2_block_and_nothing_without_it(
    tmp_path: Path,
) -> None:
    """Debian's Prometheus, configured from ops/prometheus/prometheus.yml with the scraper
    client's id and secret file, fetches its tokens from /oauth/token and scrapes; the same
    job without the `oauth2` block is refused."""
    prometheus = _tool("prometheus", "prometheus")
    with serve_bridge(
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}", default_credentials=False
    ) as live:
        scraper_client = scraper(live.bridge.engine)
        secret_file = tmp_path / "bridge_client_secret"
        secret_file.write_text(scraper_client.secret)
        config = yaml.safe_load((RULES / "prometheus.yml").read_text())
        [job] = config["scrape_configs"]
        target = live.url.removeprefix("http://")
        job["static_configs"] = [{"targets": [target]}]
        job["scrape_interval"] = "1s"
        job["oauth2"].update(
            client_id=scraper_client.client.id,
            client_secret_file=str(secret_file),
            token_url=f"{live.url}/oauth/token",
        )
        anonymous = {key: value for key, value in job.items() if key != "oauth2"}
        anonymous["job_name"] = "anonymous"
        config = {"global": config["global"], "scrape_configs": [job, anonymous]}
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        server = subprocess.Popen(
            [
                prometheus,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            health = _scraped_health(f"http://127.0.0.1:{port}", {"bridge", "anonymous"})
        finally:
            server.terminate()
            server.wait(timeout=30)

    assert health["bridge"] == ("up", "")
    state, error = health["anonymous"]
    assert state == "down"
    assert "401" in error


def _scraped_health(url: str, jobs: set[str], timeout: float = 60) -> dict[str, tuple[str, str]]:
    """{job: (health, last error)} once Prometheus has scraped every job in `jobs`."""
    deadline = time.monotonic() + timeout
    health: dict[str, tuple[str, str]] = {}
    while time.monotonic() < deadline:
        try:
            targets = requests.get(f"{url}/api/v1/targets", timeout=5).json()["data"]
        except requests.ConnectionError:
            targets = {"activeTargets": []}
        health = {
            target["labels"]["job"]: (target["health"], target["lastError"])
            for target in targets["activeTargets"]
            if target["health"] != "unknown"
        }
        if set(health) >= jobs:
            return health
        time.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape {sorted(jobs)} in {timeout} s: {health}")
