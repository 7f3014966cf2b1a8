"""`bridge contract diff OLD NEW`: its three formats, its exit statuses (0, 1 with --fail-on,
2 for a contract it refuses), through click's CliRunner and once through the installed
`bridge` executable, as a partner's CI runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bridge.cli import main

DIFF = Path(__file__).resolve().parents[1] / "data" / "contracts" / "diff"
EXPECTED = DIFF / "expected"
BRIDGE = Path(sys.executable).parent / "bridge"


@pytest.fixture(autouse=True)
def in_the_fixture_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths on the command line are the fixtures' names, as the outputs print them."""
    monkeypatch.chdir(DIFF)


def diff(*args: str) -> Result:
    return CliRunner().invoke(main, ["contract", "diff", *args])


def test_json_is_a_sorted_list_of_objects_with_the_same_keys() -> None:
    ran = diff("base.wsdl", "binding_style_changed.wsdl", "--format", "json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout) == json.loads(
        (EXPECTED / "binding_style_changed.json").read_text()
    )
    assert {len(change) for change in json.loads(ran.stdout)} == {9}


def test_markdown_is_a_table_with_the_rules_folded_under_it() -> None:
    ran = diff("base.wsdl", "content_model_changed.wsdl", "--format", "markdown")
    assert ran.stdout == (EXPECTED / "content_model_changed.md").read_text()


def test_markdown_escapes_the_bars_of_a_choice_in_a_table_cell() -> None:
    ran = diff("base.wsdl", "content_model_changed.wsdl", "--format", "markdown")
    (row,) = [
        line
        for line in ran.stdout.splitlines()
        if line.startswith("| checkVat | `checkVat/input` |")
    ]
    assert "choice(countryCode \\| vatNumber)" in row
    assert row.count(" | ") == 5  # six cells, whatever the detail holds


def test_text_is_one_line_per_change_under_its_operation() -> None:
    ran = diff("base.wsdl", "enum_value_added.wsdl")
    assert ran.stdout == (EXPECTED / "enum_value_added.txt").read_text()


def test_no_change_says_so_and_exits_0_even_when_failing_on_strict() -> None:
    ran = diff("base.wsdl", "base.wsdl", "--fail-on", "strict")
    assert (ran.exit_code, ran.stdout) == (0, "base.wsdl -> base.wsdl\nNo changes.\n")


@pytest.mark.parametrize(
    ("new", "fail_on", "status"),
    [
        ("element_removed.wsdl", "breaking", 1),
        ("element_removed.wsdl", "none", 0),
        ("element_removed.wsdl", None, 0),
        ("enum_value_added.wsdl", "breaking", 0),
        ("enum_value_added.wsdl", "strict", 1),
        ("operation_removed.wsdl", "strict", 1),
    ],
)
def test_the_exit_status_follows_fail_on(new: str, fail_on: str | None, status: int) -> None:
    options = [] if fail_on is None else ["--fail-on", fail_on]
    assert diff("base.wsdl", new, *options).exit_code == status


def test_a_contract_with_a_dtd_is_refused_with_exit_2_and_why() -> None:
    ran = diff("base.wsdl", "hostile_dtd.wsdl", "--fail-on", "breaking")
    assert ran.exit_code == 2
    assert ran.stdout == ""
    assert "hostile_dtd.wsdl:2: a DTD or entity declaration is refused" in ran.stderr


def test_a_missing_file_is_a_usage_error() -> None:
    ran = diff("base.wsdl", "nowhere.wsdl")
    assert ran.exit_code == 2
    assert "nowhere.wsdl" in ran.stderr


def test_a_port_the_contract_lacks_is_refused_and_one_it_has_is_compared() -> None:
    assert diff("base.wsdl", "base.wsdl", "--port", "VatPort").exit_code == 0
    refused = diff("base.wsdl", "base.wsdl", "--port", "NoSuchPort")
    assert refused.exit_code == 2
    assert "NoSuchPort" in refused.stderr


def test_the_installed_command_fails_a_ci_job_on_a_breaking_change() -> None:
    command = ["contract", "diff", "base.wsdl", "element_required.wsdl", "--format", "json"]
    ran = subprocess.run(
        [str(BRIDGE), *command, "--fail-on", "breaking"],
        capture_output=True,
        text=True,
        cwd=DIFF,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 1, ran.stderr
    (change,) = json.loads(ran.stdout)
    assert (change["kind"], change["path"]) == ("element-required", "checkVat/input/requestDate")
