"""Every contract the proof of issue 13 runs over (tests/services_byo/test_proof*.py), imported
into one pair of folders the way `bridge contract import` imports them.

The contracts: the import fixtures that import (tests/data/contracts/byo/: the refused ones are
proven refused by tests/contracts), the VAT service of tests/data/services_byo/ in its SOAP 1.1
and 1.2 bindings, the bridge's own six contracts, and the shared corpus of real contracts nobody
here wrote, when it is there: each corpus contract is listed by its known path, so that its
cases exist, and skip, in a clone without the folder.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.contracts.importer import import_contract
from bridge.domain.errors import ConfigurationError
from bridge.settings import ROOT
from tests.common.contracts import BYO, CORPUS, PROJECT_CONTRACTS, corpus_wsdls

SERVICES_BYO = Path(__file__).resolve().parents[1] / "data" / "services_byo"
# The byo fixtures the bridge serves: tests/contracts proves the others refused (hostile,
# invalid, WSDL 2.0, document/encoded, a multipart document body, an encoded array).
BYO_SERVED = (
    "arrays/orders.wsdl",
    "attributes/hotel.wsdl",
    "choice/billing.wsdl",
    "dates/meetings.wsdl",
    "decimals/interest.wsdl",
    "default_namespace/echo.wsdl",
    "enumerations/tickets.wsdl",
    "extension/customers.wsdl",
    "faults/transfers.wsdl",
    "header/accounts.wsdl",
    "imports/orders.wsdl",
    "nillable/contacts.wsdl",
    "patterns/vat.wsdl",
    "rpc_builtin_parts/greeter.wsdl",
    "rpc_encoded/claims.wsdl",
    "rpc_literal/quotes.wsdl",
    "several_ports/inventory.wsdl",
    "simple_content/quotes.wsdl",
    "soap12/weather.wsdl",
)
OWN = (
    "banking.wsdl",
    "partner.wsdl",
    "upstream/classifier.wsdl",
    "upstream/corebank.wsdl",
    "upstream/logistics.wsdl",
    "upstream/payroll.wsdl",
)
# The corpus's contracts (its README); any other it grows is found by `corpus_wsdls`.
CORPUS_KNOWN = (
    "dotnet/calculator.wsdl",
    "vies/checkVatService.wsdl",
    "zeep/claim.wsdl",
    "zeep/soap.wsdl",
    "zeep/soap_header.wsdl",
    "zeep/soap_import_main.wsdl",
)


@dataclass(frozen=True)
class ProofContract:
    """One contract of the proof: `id` names its test cases, `service` is the name it is
    imported as (`corpus-zeep-soap-header`)."""

    id: str
    wsdl: Path
    corpus: bool = False

    @property
    def service(self) -> str:
        name = re.sub(r"[^a-z0-9]+", "-", self.id.removesuffix(".wsdl").lower()).strip("-")
        return name[:40]

    def skip_if_absent(self) -> None:
        """A corpus contract skips where the shared corpus is not (a fresh clone)."""
        if self.corpus and not self.wsdl.is_file():
            pytest.skip(f"the shared WSDL corpus is absent ({self.wsdl})")


def proof_contracts() -> list[ProofContract]:
    found = [ProofContract(f"byo/{relative}", BYO / relative) for relative in BYO_SERVED]
    found += [
        ProofContract(f"services_byo/{path.parent.name}", path)
        for path in sorted(SERVICES_BYO.glob("*/*.wsdl"))
    ]
    found += [ProofContract(f"own/{relative}", PROJECT_CONTRACTS / relative) for relative in OWN]
    corpus = {CORPUS / relative for relative in CORPUS_KNOWN} | set(corpus_wsdls())
    found += [
        ProofContract(f"corpus/{path.relative_to(CORPUS).as_posix()}", path, corpus=True)
        for path in sorted(corpus)
    ]
    return found


def import_every_contract(
    contracts: list[ProofContract], root: Path
) -> tuple[Path, Path, dict[str, str]]:
    """(contracts_dir, mappings_dir, refusals): the bridge's own folders copied under `root`,
    with every present contract imported, wired to its generated simulator. A contract the
    import refuses is left out and its refusal kept by id, for its own cases to fail with."""
    contracts_dir, mappings_dir = root / "wsdl", root / "mappings"
    shutil.copytree(ROOT / "wsdl", contracts_dir)
    shutil.copytree(ROOT / "mappings", mappings_dir)
    refusals: dict[str, str] = {}
    for contract in contracts:
        if not contract.wsdl.is_file():
            continue
        try:
            import_contract(
                contract.wsdl,
                name=contract.service,
                contracts_dir=contracts_dir,
                mappings_dir=mappings_dir,
            )
        except ConfigurationError as exc:
            refusals[contract.id] = exc.detail
    return contracts_dir, mappings_dir, refusals
