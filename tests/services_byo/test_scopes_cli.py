"""`bridge clients create --scope`: the scopes imported services declare are grantable."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from bridge.clients_cli import clients


def create(imported: tuple[Path, Path], tmp_path: Path, scope: str) -> Result:
    contracts, mappings = imported
    env = {
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "BRIDGE_TOKEN_KEYS_DIR": str(tmp_path / "keys"),
        "BRIDGE_CONTRACTS_DIR": str(contracts),
        "BRIDGE_MAPPINGS_DIR": str(mappings),
    }
    arguments = ["create", "--name", "VAT checker", "--tier", "partner", "--scope", scope]
    return CliRunner().invoke(clients, arguments, env=env)


def test_an_imported_services_scope_is_accepted(
    imported: tuple[Path, Path], tmp_path: Path
) -> None:
    result = create(imported, tmp_path, "vat:call")

    assert result.exit_code == 0, result.output
    assert "client_id" in result.output


def test_a_scope_nobody_declares_is_refused_naming_it(
    imported: tuple[Path, Path], tmp_path: Path
) -> None:
    result = create(imported, tmp_path, "vat:approx")

    assert result.exit_code == 2
    assert "vat:approx" in result.output
