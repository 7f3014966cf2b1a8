"""Hostile path and query parameters on every REST route: never a 5xx, always problem+json.

The routes and their parameters come from the served OpenAPI document, so a route added later
is covered without touching this file. Runs on SQLite and on PostgreSQL, which refuses NUL in
any text it is asked to compare (an outside tester's `GET /api/v1/transfers/a%00b` was a 500).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from bridge.app import create_app
from bridge.settings import Settings
from tests.credentials import authorized, grant
from tests.hostile import HOSTILE_STRINGS, hostile_text

PROBLEM = "application/problem+json"
# A plausible value for the parameters not under test, by name; anything else gets "1".
PLAUSIBLE = {"job": "payroll", "account": "DE89370400440532013000", "run_id": "1"}
_VARIABLE = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Parameter:
    method: str
    path: str  # the OpenAPI template, /api/v1/transfers/{id}
    name: str
    where: str  # path | query

    def url(self, value: str) -> str:
        def filled(found: re.Match[str]) -> str:
            text = value if found[1] == self.name and self.where == "path" else None
            return _encoded(text if text is not None else PLAUSIBLE.get(found[1], "1"))

        url = _VARIABLE.sub(filled, self.path)
        if self.where == "query":
            url += "?" + urlencode({self.name: value.encode("utf-8", "surrogatepass")})
        return url


def _encoded(text: str) -> str:
    """Percent-encoded as a client would send it; an unpaired surrogate as its raw bytes."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, list[Parameter]]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'bridge.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    bridge = create_app(Settings(database_url=url, scheduler=False))
    client = Client(authorized(bridge, grant(bridge.engine)))
    document = client.get("/api/openapi.json").json
    assert document is not None
    parameters = [
        Parameter(method.upper(), path, parameter["name"], parameter["in"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] in ("path", "query")
    ]
    try:
        yield client, parameters
    finally:
        bridge.close()


def test_the_document_lists_the_routes_with_ids(served: tuple[Client, list[Parameter]]) -> None:
    named = {(p.path, p.name) for p in served[1]}
    for expected in [
        ("/api/v1/transfers/{id}", "id"),
        ("/api/v1/shipments/{id}", "id"),
        ("/api/v1/classifications/{id}", "id"),
        ("/api/v1/clients/{client_id}", "client_id"),
        ("/api/v1/hr/employees/{employee_no}", "employee_no"),
        ("/api/v1/sync/deliveries/{id}", "id"),
        ("/api/v1/audit", "client_id"),
    ]:
        assert expected in named


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), value=hostile_text())
def test_a_hostile_parameter_is_never_a_server_error(
    served: tuple[Client, list[Parameter]], data: st.DataObject, value: str
) -> None:
    client, parameters = served
    parameter = data.draw(st.sampled_from(parameters), label="parameter")
    url = parameter.url(value)

    answer = client.open(
        url, method=parameter.method, json={} if parameter.method != "GET" else None
    )

    assert answer.status_code < 500, (url, answer.get_data(as_text=True))
    if answer.status_code >= 400:
        assert answer.mimetype == PROBLEM, (url, answer.status_code)


@pytest.mark.parametrize("name", ["nul", "nul_trailing", "escape", "rtl_override", "delete"])
@pytest.mark.parametrize(
    "path", ["transfers", "shipments", "classifications", "clients", "hr/employees"]
)
def test_a_control_character_in_an_id_is_a_400_naming_it(
    served: tuple[Client, list[Parameter]], path: str, name: str
) -> None:
    client = served[0]

    answer = client.get(f"/api/v1/{path}/{_encoded(HOSTILE_STRINGS[name])}")

    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM
    problem = answer.json
    assert problem is not None
    assert [error["path"] for error in problem["errors"]] in (
        ["id"],
        ["client_id"],
        ["employee_no"],
    )


@pytest.mark.parametrize("name", ["arabic_indic_digits", "fullwidth_digits", "huge_integer"])
def test_an_integer_id_takes_ascii_digits_within_bigint_only(
    served: tuple[Client, list[Parameter]], name: str
) -> None:
    answer = served[0].get(f"/api/v1/sync/deliveries/{_encoded(HOSTILE_STRINGS[name])}")

    assert answer.status_code == 404
    assert answer.mimetype == PROBLEM
