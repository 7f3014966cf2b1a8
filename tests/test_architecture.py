"""The written rule of the pure core: domain/ and mapping/ import no framework of the edges."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bridge"
FORBIDDEN = ("flask", "spyne", "zeep", "sqlalchemy", "werkzeug", "requests", "apscheduler")


@pytest.mark.parametrize("layer", ["domain", "mapping"])
def test_pure_layer_imports_no_edge_framework(layer: str) -> None:
    offenders = []
    for source in (PACKAGE / layer).rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{source.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders


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
