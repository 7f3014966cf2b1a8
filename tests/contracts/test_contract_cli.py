"""`bridge contract import | list | show | remove`, as a person at a terminal sees them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bridge.cli import main
from tests.common.contracts import byo
from tests.served import BRIDGE


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Settings pointing the contracts and mappings at tmp_path."""
    return {
        "BRIDGE_CONTRACTS_DIR": str(tmp_path / "wsdl"),
        "BRIDGE_MAPPINGS_DIR": str(tmp_path / "mappings"),
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}",
    }


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["contract", *args], env=env, catch_exceptions=False)


def test_import_says_what_it_imported_and_where(env: dict[str, str]) -> None:
    done = _run(env, "import", str(byo("patterns/vat.wsdl")), "--name", "vat")

    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "imported vat: 1 operation(s) (ValidateVat) through port VatPort (SOAP 1.1), "
        "upstream simulator, scope vat:call"
    )
    assert lines[1].split() == ["contract", str(Path(env["BRIDGE_CONTRACTS_DIR"]) / "services/vat")]
    assert (Path(env["BRIDGE_MAPPINGS_DIR"]) / "services/vat/ValidateVat.input.yaml").is_file()


def test_import_refuses_to_overwrite_without_force(env: dict[str, str]) -> None:
    source = str(byo("patterns/vat.wsdl"))
    _run(env, "import", source, "--name", "vat")

    again = _run(env, "import", source, "--name", "vat")
    forced = _run(env, "import", source, "--name", "vat", "--force", "--safe", "ValidateVat")

    assert again.exit_code == 2
    assert "a contract named vat is imported already" in again.stderr
    assert "--force replaces it" in again.stderr
    assert forced.exit_code == 0, forced.output


def test_a_refused_contract_is_one_line_naming_file_and_line_exit_2(env: dict[str, str]) -> None:
    source = byo("hostile_remote_import/remote.wsdl")

    done = _run(env, "import", str(source), "--name", "evil")

    assert done.exit_code == 2
    assert done.stderr.splitlines() == [
        f"bridge: {source}:9: xsd:import of the remote location "
        "'http://evil.example/steal.xsd' refused; a contract is read from its own folder, "
        "never from the network"
    ]
    assert not (Path(env["BRIDGE_CONTRACTS_DIR"]) / "services" / "evil").exists()


def test_list_shows_name_operations_upstream_and_scope(env: dict[str, str]) -> None:
    _run(env, "import", str(byo("rpc_literal/quotes.wsdl")), "--name", "quotes")
    _run(
        env,
        "import",
        str(byo("patterns/vat.wsdl")),
        "--name",
        "vat",
        "--upstream",
        "https://legacy.example/vat",
    )

    done = _run(env, "list")

    assert done.exit_code == 0, done.output
    assert [line.split() for line in done.stdout.splitlines()] == [
        ["name", "operations", "upstream", "scope"],
        ["quotes", "2", "simulator", "quotes:call"],
        ["vat", "1", "https://legacy.example/vat", "vat:call"],
    ]


def test_list_with_nothing_imported_says_so(env: dict[str, str]) -> None:
    done = _run(env, "list")

    assert done.exit_code == 0
    assert done.stdout.startswith("no imported contracts")


def test_show_lists_ports_operations_faults_and_policies(env: dict[str, str]) -> None:
    _run(env, "import", str(byo("faults/transfers.wsdl")), "--name", "transfers")

    done = _run(env, "show", "transfers")

    assert done.exit_code == 0, done.output
    text = done.stdout
    assert (
        "TransfersService/TransfersPort  SOAP 1.1  http://legacy.example/faults  (served)" in text
    )
    assert (
        "TransferMoney  document  SOAP 1.1  SOAPAction 'urn:byo:faults:TransferMoney'  "
        "scope transfers:call  safe no  timeout 10 s"
    ) in text
    assert "fault   InsufficientFunds: {urn:byo:faults}InsufficientFundsFault" in text
    assert "retries 2 (safe operations only)" in text


def test_show_says_an_operation_is_rpc_encoded(env: dict[str, str]) -> None:
    _run(env, "import", str(byo("rpc_encoded/claims.wsdl")), "--name", "claims")

    done = _run(env, "show", "claims")

    assert done.exit_code == 0, done.output
    assert "    getClaim  rpc/encoded  SOAP 1.1  SOAPAction ''" in done.stdout
    assert "      input   {urn:byo:rpc_encoded:calls}getClaim (wrapped)" in done.stdout


def test_show_of_an_unknown_name_exits_1(env: dict[str, str]) -> None:
    done = _run(env, "show", "nope")

    assert done.exit_code == 1
    assert "no imported contract named 'nope'" in done.stderr


def test_remove_deletes_the_files(env: dict[str, str]) -> None:
    _run(env, "import", str(byo("patterns/vat.wsdl")), "--name", "vat")

    done = _run(env, "remove", "vat")

    assert done.exit_code == 0
    assert done.stdout == "removed vat\n"
    assert not (Path(env["BRIDGE_CONTRACTS_DIR"]) / "services" / "vat").exists()
    assert _run(env, "remove", "vat").exit_code == 1


@pytest.mark.slow
def test_the_bridge_executable_imports_and_shows_a_contract(
    env: dict[str, str], tmp_path: Path
) -> None:
    environment = {**os.environ, **env, "BRIDGE_SCHEDULER": "false"}

    def bridge(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BRIDGE), "contract", *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    imported = bridge("import", str(byo("imports/orders.wsdl")), "--name", "orders")
    shown = bridge("show", "orders")

    assert imported.returncode == 0, imported.stderr
    assert imported.stderr == ""
    assert shown.returncode == 0, shown.stderr
    assert "PlaceOrder  document  SOAP 1.1" in shown.stdout
    assert "input   {urn:byo:imports:orders}PlaceOrder (wrapped)" in shown.stdout
