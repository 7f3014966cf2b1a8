"""Schemathesis against the served OpenAPI document: what the document says is what the door does.

A live bridge (real sockets, the simulators as its upstreams) is fuzzed from its own
`/api/openapi.json` with every check schemathesis has, positive and negative data, a fixed seed
and a bounded number of examples per operation. Every operation is called with the API key of a
private client holding every scope; schemathesis's own unauthenticated and bad-credential calls
(the `ignored_auth` check) still run, which is why the lockout after refused credentials is
raised for this bridge only: otherwise the rest of the run would be answered 429.

What JSON Schema cannot say, and why a schema-valid request may still be refused with a 422
(documented on those operations): the request clashes with state or with itself as a whole (a
`msg_id` or `order_ref` reused for another body, debtor and creditor the same account, a
client's scope it may not grant). Schema-valid requests refused with a 400 fail the run, but
for the rules the document can only name as a format or describe (check digits, issued
cursors, date order, the execution-date window): `as_the_formats_say` makes positive cases
follow them, as a client reading the document would. Findings that are not the document's to
fix are listed in `KNOWN` with their reasons; any other fails the test.

Operations with an effect beyond their own resource are fuzzed like every other: a sync job run
(`runSyncJob`) drains queues towards the simulators only; `disableClient` is fuzzed on every
client but the run's own (schemathesis learns client ids from `listClients`, and disabling the
caller would leave every later call a 401 that tests nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.engine.run import PhaseName

from bridge.domain.iban import IBAN_PATTERN, iban_valid
from bridge.rest import cursor
from bridge.rest.accounts import DEFAULT_LIMIT
from tests.common.live import serve_bridge
from tests.common.schemathesis_report import describe, error
from tests.credentials import grant
from tests.strategies.common import IBANS, LOCAL_ACCOUNT_NUMBERS, with_check_digits

SEED = 20261204
EXAMPLES = 8  # per operation and phase: the whole run stays around a minute on two cores

# The formats the document names beyond JSON Schema's own (bridge.mapping.jsonschema): an IBAN
# with valid check digits, and core banking's account number (an IBAN or 6 to 20 digits).
schemathesis.openapi.format("iban", IBANS)
schemathesis.openapi.format("account-number", st.one_of(IBANS, LOCAL_ACCOUNT_NUMBERS))
KEYSET_CURSOR = cursor.encode_after(datetime(2026, 1, 1, tzinfo=UTC), "1")


# schemathesis's default for schema-valid data, and 422: refused as a whole (see above).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]


@pytest.fixture(scope="module")
def served_document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    database = tmp_path_factory.mktemp("schemathesis") / "bridge.db"
    with serve_bridge(
        default_credentials=False,
        database_url=f"sqlite:///{database}",
        auth_failure_limit=10_000,
        auth_failure_source_limit=100_000,
    ) as live:
        caller = grant(live.bridge.engine)
        config = SchemathesisConfig.from_dict(
            {
                "seed": SEED,
                "auth": {"openapi": {"apiKey": {"api_key": caller.api_key}}},
                # No example database: the same run locally as in CI (whose clone has none).
                "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
                "phases": {"stateful": {"enabled": False}},
                # A batch of HR changes is up to 1,000 items of patterned decimals: hypothesis
                # filters more of them than its health check likes, and still finds examples.
                "suppress-health-check": ["filter_too_much"],
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
            }
        )
        schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json", config=config)
        schema.hook("map_case")(as_the_formats_say)
        schema.hook("filter_case")(lambda context, case: not _disables(case, caller.client.id))
        yield schema


def as_the_formats_say(context: Any, case: Any) -> Any:
    """A schema-valid case made valid where the document can only name a format: IBANs get
    their check digits (`format: iban`, `account-number`), cursors are ones the bridge issued
    (`format: cursor`). The coverage phase builds values from patterns alone, so this runs on
    every positive case; negative ones are left as generated."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    case.path_parameters = _check_digits(case.path_parameters)
    case.query = _check_digits(case.query)
    case.body = _check_digits(case.body)
    if isinstance(case.body, dict) and case.body.get("requested_execution_date") is not None:
        # the window of execution dates moves with the day (bridge.domain.banking)
        case.body["requested_execution_date"] = date.today().isoformat()
    if isinstance(case.query, dict):
        _in_order(case.query)
        if "cursor" in case.query:
            case.query["cursor"] = _issued_cursor(case)
    return case


def _in_order(query: dict[str, Any]) -> None:
    """`from_date` on or before `to_date`: a rule between two parameters (a 400 naming
    `to_date` otherwise) that no parameter schema can state."""
    first, last = query.get("from_date"), query.get("to_date")
    if isinstance(first, str) and isinstance(last, str) and first > last:
        query["from_date"], query["to_date"] = last, first


def _disables(case: Any, client_id: str) -> bool:
    """Would the case disable the run's own client? schemathesis learns client ids from the
    answers of `listClients`; disabling the caller would answer every later call 401."""
    return bool(
        case.operation.path.endswith("/disable")
        and case.path_parameters
        and case.path_parameters.get("client_id") == client_id
    )


def _check_digits(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _check_digits(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_check_digits(item) for item in value]
    if isinstance(value, str) and IBAN_PATTERN.fullmatch(value) and not iban_valid(value):
        return with_check_digits(value[:2], value[4:])
    return value


def _issued_cursor(case: Any) -> str:
    """Transaction cursors continue one query (account, dates, limit); the keyset cursors of
    the other lists continue any query."""
    path = case.operation.path
    if not path.endswith("/transactions"):
        return KEYSET_CURSOR
    query = case.query
    digest = cursor.query_digest(
        case.path_parameters["account"],
        date.fromisoformat(str(query["from_date"])),
        date.fromisoformat(str(query["to_date"])),
        int(query.get("limit", DEFAULT_LIMIT)),
    )
    return cursor.encode(2, digest)


# Findings of this run that are not the document's to fix, each with who decides it. A finding
# not listed here fails the test; delete an entry once its cause is fixed.
KNOWN: dict[tuple[str, str, str], str] = {
    (
        "POST /api/v1/sync/jobs/{job}/runs",
        "negative_data_rejection",
        "positive test case",
    ): "schemathesis reports a negative case it could not make negative (an optional body)",
    (
        "POST /api/v1/sync/deliveries/replay",
        "negative_data_rejection",
        "positive test case",
    ): "as above",
}


def test_every_operation_does_what_the_document_says(served_document: Any) -> None:
    """The run `st run --checks all` makes (examples, coverage and fuzzing phases), through
    schemathesis's own engine: a failed check, an error or a skipped operation fails. The
    stateful phase is off: on operations without parameters it reports negative cases it
    could not make negative."""
    failures: list[str] = []
    tested: set[str] = set()
    for event in engine.from_schema(served_document).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.label:
                tested.add(event.label)
            if event.skip_reason and event.phase != PhaseName.EXAMPLES:
                failures.append(f"{event.label}: skipped ({event.skip_reason})")
            for case_id, checks in event.recorder.checks.items():
                failures += [
                    f"{event.label}: {check.name}: {describe(check, event.recorder, case_id)}"
                    for check in checks
                    if check.status != Status.SUCCESS
                    and not _known(event.label, check, event.recorder, case_id)
                ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {getattr(event, 'label', '')} {error(event)}")

    assert not failures, "\n".join(sorted(set(failures)))
    assert tested >= {
        f"{method.upper()} {path}"
        for path, item in served_document.raw_schema["paths"].items()
        for method in item
    }


def _known(label: str | None, check: Any, recorder: Any, case_id: str) -> bool:
    text = describe(check, recorder, case_id)
    return any(
        label == operation and check.name == name and clue in text
        for operation, name, clue in KNOWN
    )
