"""Imported-contract benchmark (bridge issue 13): import, the generic REST path, the diff.

    python bench/contracts.py [--operations 200] [--types 3000] [--requests 300] [--rounds 3]

Three numbers, each printed with its target, met or MISSED:

  import     `import_contract` (load, check, write the files) of a generated WSDL of
             --operations operations over --types complex types: under 2 s
  REST path  one call of an imported operation through the generic REST door
             (POST /api/v1/services/transfers/postTransfer) against one transfer through the
             hand-written banking door (POST /api/v1/transfers), the message of the same size
             and shape (tests/data/bench/transfer_service/transfers.wsdl mirrors
             bench/wrk/transfer.json), measured in the same run: at most 1.2x
  diff       `bridge contract diff` (both contracts loaded, compared, written as JSON) of two
             generated WSDLs of --operations operations, the second with changes: under 1 s

The REST paths run in this process: one bridge from `create_app` (SQLite, simulators and
scheduler off, audit rows, metrics and rate limits on), its whole WSGI app driven by werkzeug's
test client, each upstream a stub behind the service's seam (`Overrides`) answering at once,
so the ratio compares the bridge's own work on each path. Requests of both paths alternate in
--rounds rounds; the median time per request of each path is reported.

The generated WSDL comes from tests/common/contracts.py (`large_contract_wsdl`), imported here
rather than moved: it is test-data tooling, and tests/common/ is where the project's shared
test helpers live; bench/ already runs from the repository root, and putting the generator in
bridge/ would ship a test-data generator in the package.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.app import Bridge, Overrides, create_app  # noqa: E402
from bridge.contract_diff_cli import diff  # noqa: E402
from bridge.contracts.importer import import_contract  # noqa: E402
from bridge.domain.banking import TransferStatus  # noqa: E402
from bridge.domain.corebank import PostingResult  # noqa: E402
from bridge.mapping import xml  # noqa: E402
from bridge.security.clients import ClientRegistry  # noqa: E402
from bridge.settings import Settings  # noqa: E402
from tests.common.contracts import large_contract_wsdl  # noqa: E402

IMPORT_TARGET = 2.0  # seconds
REST_TARGET = 1.2  # generic / hand-written
DIFF_TARGET = 1.0  # seconds
TRANSFERS_WSDL = ROOT / "tests" / "data" / "bench" / "transfer_service" / "transfers.wsdl"
BANKING_BODY = ROOT / "bench" / "wrk" / "transfer.json"
PLAN = "bench"
NS = "urn:bench:transfers:v1"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def best_of(runs: int, work: Callable[[], Any]) -> float:
    """The median of `runs` timings of `work`, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- import and diff ------------------------------------------------------------------------------


def time_import(workdir: Path, operations: int, types: int, runs: int) -> float:
    source = workdir / "source"
    source.mkdir()
    wsdl = source / "large.wsdl"
    wsdl.write_text(large_contract_wsdl(types=types, operations=operations), encoding="utf-8")
    count = 0

    def once() -> None:
        nonlocal count
        count += 1
        target = workdir / f"import{count}"
        import_contract(
            wsdl, name="large", contracts_dir=target / "wsdl", mappings_dir=target / "mappings"
        )

    return best_of(runs, once)


def changed(wsdl: str) -> str:
    """A new version of a generated WSDL: five optional elements made required and five
    lengths narrowed (breaking), the rest as it was."""
    optional = '<xs:element name="amount" type="xs:decimal" minOccurs="0"/>'
    required = '<xs:element name="amount" type="xs:decimal"/>'
    return wsdl.replace(optional, required, 5).replace(
        '<xs:maxLength value="9"/>', '<xs:maxLength value="8"/>', 5
    )


def time_diff(workdir: Path, operations: int, types: int, runs: int) -> tuple[float, int]:
    old, new = workdir / "old.wsdl", workdir / "new.wsdl"
    text = large_contract_wsdl(types=types, operations=operations)
    old.write_text(text, encoding="utf-8")
    new.write_text(changed(text), encoding="utf-8")
    found: list[int] = []

    def once() -> None:
        result = CliRunner().invoke(diff, [str(old), str(new), "--format", "json"])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        found.append(len(json.loads(result.stdout)))

    return best_of(runs, once), found[-1]


# -- the two REST paths ---------------------------------------------------------------------------


class StubCoreBank:
    """Core banking answering every posting at once, as accepted."""

    def post_payment(self, posting: Any, correlation_id: str | None = None) -> PostingResult:
        return PostingResult(
            payment_id=f"P{posting.external_ref[-20:]}",
            status=TransferStatus.ACCP,
            result_text="accepted",
        )

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"the bench's core banking does not answer {name}")


class StubTransfers:
    """The imported service's upstream answering every call at once."""

    def __init__(self) -> None:
        self.reply = xml.parse(
            f'<t:postTransferResponse xmlns:t="{NS}"><t:status>ACCP</t:status>'
            "<t:paymentId>P1</t:paymentId></t:postTransferResponse>".encode()
        )

    def call(self, operation: str, body: Any, **_options: Any) -> Any:
        return self.reply


def generic_body(banking: dict[str, Any]) -> dict[str, Any]:
    """The banking door's transfer in the imported contract's JSON form: same fields, same
    values."""
    return {
        "msgId": banking["msg_id"],
        "createdAt": banking["created_at"],
        "amount": banking["amount"],
        "debtor": {"name": banking["debtor"]["name"], "iban": banking["debtor"]["account"]["iban"]},
        "creditor": {
            "name": banking["creditor"]["name"],
            "iban": banking["creditor"]["account"]["iban"],
        },
        "remittanceInfo": banking["remittance_info"],
    }


def build(workdir: Path) -> tuple[Bridge, str]:
    contracts, mappings = workdir / "wsdl", workdir / "mappings"
    shutil.copytree(ROOT / "wsdl", contracts)
    shutil.copytree(ROOT / "mappings", mappings)
    import_contract(
        TRANSFERS_WSDL,
        name="transfers",
        contracts_dir=contracts,
        mappings_dir=mappings,
        upstream="http://127.0.0.1:9/transfers",  # never called: the stub stands in
    )
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'bridge.db'}",
        contracts_dir=contracts,
        mappings_dir=mappings,
        token_keys_dir=workdir / "keys",
        simulators=False,
        scheduler=False,
        log_level="WARNING",
        rate_limit_plans={"standard": "100/minute", PLAN: "1000000/minute"},
    )
    bridge = create_app(
        settings,
        start_scheduler=False,
        overrides=Overrides(
            corebank=StubCoreBank(),  # type: ignore[arg-type]
            imported_upstreams={"transfers": StubTransfers()},  # type: ignore[dict-item]
        ),
    )
    registry = ClientRegistry(bridge.engine)
    client, _ = registry.create(
        "bench", "partner", ["transfers:write", "transfers:read", "transfers:call"], plan=PLAN
    )
    return bridge, registry.create_api_key(client.id)


def time_rest(workdir: Path, requests: int, rounds: int) -> tuple[float, float, int, int]:
    """(median seconds per banking request, per generic request, the two bodies' sizes)."""
    from werkzeug.test import Client

    bridge, key = build(workdir)
    client = Client(bridge.wsgi)
    headers = {"X-API-Key": key}
    template = BANKING_BODY.read_text(encoding="utf-8")
    sequence = 0

    def banking_body() -> bytes:
        nonlocal sequence
        sequence += 1
        return template.replace("{{ID}}", f"BENCH-{sequence:08d}").encode()

    def generic() -> bytes:
        """The same transfer in the imported contract's form, its remittance text padded so
        that the body has the banking body's size to the byte (the JSON names are shorter)."""
        original = banking_body()
        body = generic_body(json.loads(original))
        data = json.dumps(body, ensure_ascii=False).encode()
        body["remittanceInfo"] += "." * (len(original) - len(data))
        return json.dumps(body, ensure_ascii=False).encode()

    def run(path: str, body: Callable[[], bytes], expected: int) -> list[float]:
        times = []
        for _ in range(requests):
            data = body()
            started = time.perf_counter()
            answer = client.post(path, data=data, headers=headers, content_type="application/json")
            times.append(time.perf_counter() - started)
            if answer.status_code != expected:
                raise SystemExit(f"{path}: HTTP {answer.status_code}: {answer.get_data(True)}")
        return times

    paths: Sequence[tuple[str, Callable[[], bytes], int]] = (
        ("/api/v1/transfers", banking_body, 201),
        ("/api/v1/services/transfers/postTransfer", generic, 200),
    )
    for path, body, expected in paths:  # warm-up: imports, caches, first connections
        run(path, body, expected)
    banking_times: list[float] = []
    generic_times: list[float] = []
    for _ in range(rounds):
        banking_times += run(*paths[0])
        generic_times += run(*paths[1])
    sizes = len(banking_body()), len(generic())
    bridge.close()
    return statistics.median(banking_times), statistics.median(generic_times), *sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--types", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=300, help="per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="timings of import and diff")
    options = parser.parse_args(argv)
    missed = 0
    with tempfile.TemporaryDirectory(prefix="bench-contracts-") as folder:
        workdir = Path(folder)
        (workdir / "import").mkdir()
        (workdir / "diff").mkdir()
        (workdir / "rest").mkdir()

        seconds = time_import(workdir / "import", options.operations, options.types, options.runs)
        met = seconds < IMPORT_TARGET
        missed += not met
        print(
            f"import of a {options.operations}-operation WSDL ({options.types} types): "
            f"{seconds:.3f} s (target < {IMPORT_TARGET:.0f} s) {verdict(met)}"
        )

        banking, generic, banking_size, generic_size = time_rest(
            workdir / "rest", options.requests, options.rounds
        )
        ratio = generic / banking
        met = ratio <= REST_TARGET
        missed += not met
        print(
            f"REST path, median per request: hand-written banking {banking * 1000:.2f} ms "
            f"({banking_size} B), generic {generic * 1000:.2f} ms ({generic_size} B): "
            f"{ratio:.2f}x (target <= {REST_TARGET}x) {verdict(met)}"
        )

        seconds, changes = time_diff(
            workdir / "diff", options.operations, options.types, options.runs
        )
        met = seconds < DIFF_TARGET
        missed += not met
        print(
            f"contract diff of two {options.operations}-operation WSDLs ({changes} changes): "
            f"{seconds:.3f} s (target < {DIFF_TARGET:.0f} s) {verdict(met)}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
