"""Written rules, enforced: the layers and the pure core (domain/, mapping/), as the
import-linter contracts in pyproject.toml state them, and tests that import helpers from
tests/common/, never from a conftest or a test module."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bridge"
FORBIDDEN = ("flask", "spyne", "zeep", "sqlalchemy", "werkzeug", "requests", "apscheduler")


def import_contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_every_import_follows_the_layers_and_the_pure_core_contracts() -> None:
    """`lint-imports` over pyproject.toml's contracts; on failure its report names each import
    that runs against a layer (lazy and TYPE_CHECKING imports included) and its line."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        # The report without import-linter's ASCII-art banner.
        report = result.stdout[result.stdout.find("Contracts") :] + result.stderr
        pytest.fail(f"lint-imports failed:\n{report}", pytrace=False)


def test_the_contracts_ignore_no_import_and_place_every_module() -> None:
    """An ignored import would be a back edge the contract pretends not to see; a module of
    bridge/ left out of the layers would be unchecked."""
    contracts = import_contracts()
    assert [c for c in contracts if c.get("ignore_imports")] == []
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    assert layers["containers"] == ["bridge"]
    assert layers["exhaustive"] is True
    assert not layers.get("exhaustive_ignores")
    (pure,) = [c for c in contracts if c["type"] == "forbidden"]
    assert set(FORBIDDEN) <= set(pure["forbidden_modules"])
    assert not pure.get("allow_indirect_imports")


def test_importing_the_core_loads_no_edge_framework() -> None:
    code = (
        "import sys, bridge.domain, bridge.mapping;"
        f"print([m for m in {FORBIDDEN!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_domain_imports_nothing_but_itself_and_the_standard_library() -> None:
    for source in (PACKAGE / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                assert top in {"bridge", "__future__"} or top in sys.stdlib_module_names, (
                    f"{source.name} imports {node.module}"
                )


TESTS = Path(__file__).resolve().parent


def imports_of_tests_or_conftest(source: str) -> list[str]:
    """Modules a test file imports that are conftest files or test modules: helpers live in
    tests/common/, fixtures in conftest files (found by pytest, imported by nobody)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            modules = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found += [
            module
            for module in modules
            if (last := module.rsplit(".", 1)[-1]) == "conftest" or last.startswith("test_")
        ]
    return found


def test_no_test_file_imports_a_conftest_or_another_test_module() -> None:
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imports_of_tests_or_conftest(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "from tests.rest.conftest import post_json",
        "from tests.soap.test_e2e import partner",
        "from .conftest import Door",
        "from tests.soap import test_e2e",
        "import tests.sync.test_payroll_sync",
    ],
)
def test_the_import_rule_sees_every_form_of_import(source: str) -> None:
    assert imports_of_tests_or_conftest(source)


def test_the_import_rule_lets_helpers_through() -> None:
    assert imports_of_tests_or_conftest("from tests.common.rest import post_json") == []
