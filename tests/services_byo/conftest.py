"""One bridge serving imported services on a loopback port, for every test of the package.

The VAT contract of tests/data/services_byo/ is imported into a copy of the bridge's own
contracts and mapping specs: as `vat`, wired to its generated simulator (`checkVat` marked
safe), as `vat12`, its SOAP 1.2 binding, wired to its simulator too, and as `down`, wired to a
closed loopback port. Each test starts with the simulator's
calls and faults forgotten and every circuit closed, and makes clients of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.contracts.importer import import_contract
from bridge.settings import ROOT
from bridge.sims.control import SimControl
from tests.common.live import LiveBridge, free_port, serve_bridge
from tests.credentials import Credentials, grant

DATA = Path(__file__).resolve().parents[1] / "data" / "services_byo"
VAT_WSDL = DATA / "vat" / "checkVatService.wsdl"
VAT12_WSDL = DATA / "vat12" / "checkVatService.wsdl"  # the same, bound to SOAP 1.2


def imported_dirs(root: Path, *, down: str) -> tuple[Path, Path]:
    """(contracts_dir, mappings_dir): the bridge's own, with `vat`, `vat12` and `down`."""
    contracts, mappings = root / "wsdl", root / "mappings"
    shutil.copytree(ROOT / "wsdl", contracts)
    shutil.copytree(ROOT / "mappings", mappings)
    import_contract(
        VAT_WSDL, name="vat", contracts_dir=contracts, mappings_dir=mappings, safe=["checkVat"]
    )
    import_contract(VAT12_WSDL, name="vat12", contracts_dir=contracts, mappings_dir=mappings)
    import_contract(
        VAT_WSDL,
        name="down",
        contracts_dir=contracts,
        mappings_dir=mappings,
        upstream=down,
        safe=["checkVat"],
    )
    return contracts, mappings


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return imported_dirs(
        tmp_path_factory.mktemp("imported"), down=f"http://127.0.0.1:{free_port()}/vat"
    )


@pytest.fixture(scope="session")
def live_services(
    imported: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveBridge]:
    contracts, mappings = imported
    database = tmp_path_factory.mktemp("db") / "bridge.db"
    with serve_bridge(
        default_credentials=False,
        contracts_dir=contracts,
        mappings_dir=mappings,
        database_url=f"sqlite:///{database}",
    ) as live:
        yield live


@pytest.fixture
def live(live_services: LiveBridge) -> LiveBridge:
    vat_simulator(live_services).reset()
    vat_simulator(live_services, "vat12").reset()
    for service in live_services.bridge.imported:
        service.upstream.breaker.close()  # type: ignore[attr-defined]
    return live_services


def vat_simulator(live: LiveBridge, name: str = "vat") -> SimControl:
    """The control plane of a service's generated simulator, as this process's server runs it."""
    server = live.bridge.upstreams.simulators
    assert server is not None
    control: SimControl = server.apps[f"/sims/services/{name}"].control  # type: ignore[attr-defined]
    return control


@pytest.fixture
def simulator(live: LiveBridge) -> SimControl:
    return vat_simulator(live)


@pytest.fixture
def simulator12(live: LiveBridge) -> SimControl:
    return vat_simulator(live, "vat12")


@pytest.fixture
def caller(live: LiveBridge) -> Credentials:
    """A partner's client holding the services' scopes."""
    return grant(
        live.bridge.engine,
        tier="partner",
        scopes={"vat:call", "vat12:call", "down:call"},
        name="vat caller",
    )
