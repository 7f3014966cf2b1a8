"""A bad mapping spec is found at start-up and reported with its file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.domain.errors import ConfigurationError
from bridge.mapping import Mappings
from bridge.mapping.registry import DEFAULT_ROOT

SPECS = Path(__file__).parent / "data" / "specs"


def _tree_with(tmp_path: Path, bad: str) -> Path:
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_ROOT, root)
    shutil.copy(SPECS / bad, root / "banking" / "transfer_request.yaml")
    return root


def test_a_spec_that_leaves_a_canonical_field_unmapped_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"banking/transfer_request.*not mapped: .*amount"):
        Mappings.load(_tree_with(tmp_path, "bad_unmapped_field.yaml"))


def test_a_spec_naming_an_unknown_field_group_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown field group 'NoSuchGroup'"):
        Mappings.load(_tree_with(tmp_path, "bad_unknown_group.yaml"))


def test_a_missing_mappings_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        Mappings.load(tmp_path / "nowhere")


def test_specs_compile_once_and_are_shared(mappings: Mappings) -> None:
    assert mappings["banking/transfer_request"] is mappings["banking/transfer_request"]
    assert len(mappings) == len(mappings.names())
