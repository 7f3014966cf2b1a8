"""The simulators' spyne models are read from their contracts: each complexType's sequence in
order, each element's occurrence, and the built-in type under each simple type."""

from __future__ import annotations

from typing import Any

import pytest
from spyne import Date, DateTime, Decimal, Integer32, Unicode

from bridge.sims.contract import load_contract
from bridge.sims.schema_models import contract_models
from tests.common.sims import NAMES


def _models(name: str) -> dict[str, Any]:
    return contract_models(load_contract(name, "http://sims.example"))


def _occurs(kind: Any) -> tuple[int, Any]:
    return kind.Attributes.min_occurs, kind.Attributes.max_occurs


@pytest.mark.parametrize("name", NAMES)
def test_every_operation_has_a_request_and_a_result_model(name: str) -> None:
    contract = load_contract(name, "http://sims.example")
    models = contract_models(contract)
    for operation in contract.operations:
        assert f"{operation}Request" in models
        assert f"{operation}Result" in models


def test_fields_follow_the_sequence_of_their_complex_type() -> None:
    batch = _models("payroll")["PayrollBatch"]
    assert list(batch._type_info) == ["BatchId", "SubmittedAt", "Record"]


def test_occurrences_are_the_elements_own() -> None:
    models = _models("payroll")
    assert _occurs(models["PayrollBatch"]._type_info["Record"]) == (1, float("inf"))
    assert _occurs(models["SubmitPayrollBatchResult"]._type_info["Result"]) == (0, float("inf"))
    assert _occurs(models["RecordResult"]._type_info["RecordId"]) == (0, 1)
    assert _occurs(models["RecordResult"]._type_info["EmployeeNo"]) == (1, 1)


def test_a_simple_type_is_read_as_the_built_in_it_restricts() -> None:
    models = _models("payroll")
    fields = models["EmployeeRecord"]._type_info
    assert issubclass(fields["EmployeeNo"], Unicode)  # a pattern on xs:string
    assert issubclass(fields["WeeklyHours"], Decimal)
    assert issubclass(fields["EffectiveDate"], Date)
    assert issubclass(models["PayrollBatch"]._type_info["SubmittedAt"], DateTime)
    assert issubclass(models["SubmitPayrollBatchResult"]._type_info["Accepted"], Integer32)


def test_a_field_of_a_complex_type_is_that_types_model() -> None:
    models = _models("payroll")
    salary = models["EmployeeRecord"]._type_info["Salary"]
    assert salary.get_type_name() == "Salary"
    assert list(salary._type_info) == list(models["Salary"]._type_info)
