"""The payroll mappings (mappings/payroll/, wsdl/upstream/payroll.wsdl): wrapped employee records,
decimal salaries per currency, batches whose errors name the record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.domain import (
    EmployeeAction,
    EmployeeChange,
    EmployeeUpsertResult,
    Money,
    PayPeriod,
    PayrollBatch,
    PayrollBatchResult,
    RecordResult,
    RecordStatus,
    Salary,
)
from bridge.domain.errors import MappingError
from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema

ALL = Mappings.load()
SCHEMA = contract_schema("payroll")
NS = "urn:payroll:v1"
BENCH = Path(__file__).parent / "data" / "bench" / "payroll_batch_1000.xml"

UPSERT = ALL["payroll/employee_upsert"]
UPSERT_RESULT = ALL["payroll/employee_upsert_result"]
BATCH = ALL["payroll/payroll_batch"]
BATCH_RESULT = ALL["payroll/payroll_batch_result"]


def record_xml(number: int, amount: str = "5250.00", currency: str = "EUR") -> str:
    return (
        f"<Record><RecordId>hr-{number}</RecordId><EmployeeNo>E{number:04d}</EmployeeNo>"
        "<GivenName>Jürgen</GivenName><FamilyName>Großmann</FamilyName>"
        f"<Salary><Amount>{amount}</Amount><Currency>{currency}</Currency>"
        "<Period>MONTHLY</Period></Salary><WeeklyHours>38.5</WeeklyHours>"
        "<BankAccount>DE89370400440532013000</BankAccount>"
        "<EffectiveDate>2025-07-01</EffectiveDate><Action>HIRE</Action></Record>"
    )


def batch_xml(*records: str, submitted_at: str = "2025-06-02T09:15:00Z") -> bytes:
    return (
        f'<SubmitPayrollBatch xmlns="{NS}"><Batch><BatchId>payroll-1</BatchId>'
        f"<SubmittedAt>{submitted_at}</SubmittedAt>{''.join(records)}</Batch></SubmitPayrollBatch>"
    ).encode()


def change(amount: str = "5250.00", currency: str = "EUR", number: int = 1) -> EmployeeChange:
    return EmployeeChange(
        record_id=f"hr-{number}",
        employee_no=f"E{number:04d}",
        given_name="Thị Minh Khai",
        family_name="Nguyễn",
        salary=Salary(
            amount=Money(amount=Decimal(amount), currency=currency), period=PayPeriod.MONTHLY
        ),
        weekly_hours=Decimal("37.50"),
        bank_account="DE89370400440532013000",
        effective_date=date(2025, 7, 1),
        action=EmployeeAction.CHANGE,
    )


def written(mapping_text: str) -> str:
    SCHEMA.assertValid(xml.parse(mapping_text.encode()))
    return mapping_text


# -- employee records ------------------------------------------------------------------------------


def test_an_upsert_reads_the_record_inside_its_employee_record_wrapper() -> None:
    data = batch_xml(record_xml(7)).decode()
    record = data[data.index("<Record>") + 8 : data.index("</Record>")]
    upsert = (
        f'<UpsertEmployee xmlns="{NS}"><EmployeeRecord>{record}</EmployeeRecord></UpsertEmployee>'
    )
    document = xml.parse(upsert.encode())
    SCHEMA.assertValid(document)
    message = UPSERT.read(document)
    assert message == EmployeeChange(
        record_id="hr-7",
        employee_no="E0007",
        given_name="Jürgen",
        family_name="Großmann",
        salary=Salary(
            amount=Money(amount=Decimal("5250.00"), currency="EUR"), period=PayPeriod.MONTHLY
        ),
        weekly_hours=Decimal("38.5"),
        bank_account="DE89370400440532013000",
        effective_date=date(2025, 7, 1),
        action=EmployeeAction.HIRE,
    )
    assert written(UPSERT.write_text(message)) == upsert


@pytest.mark.parametrize(
    ("currency", "text", "amount"),
    [
        ("JPY", "1250", "1250"),
        ("EUR", "12.50", "12.50"),
        ("BHD", "1.250", "1.250"),
        ("VND", "1250", "1250"),
    ],
)
def test_a_salary_is_a_decimal_amount_with_the_minor_units_of_its_currency(
    currency: str, text: str, amount: str
) -> None:
    message = change(amount, currency)
    xml_text = written(UPSERT.write_text(message))
    assert f"<Amount>{text}</Amount><Currency>{currency}</Currency>" in xml_text
    read_back = UPSERT.read(xml.parse(xml_text.encode()))
    assert read_back == message
    assert str(read_back.salary.amount.amount) == amount


def test_a_salary_of_whole_euros_is_read_with_cents() -> None:
    batch = BATCH.read(xml.parse(batch_xml(record_xml(1, amount="64000"))))
    assert str(batch.records[0].salary.amount.amount) == "64000.00"


def test_a_salary_finer_than_its_currency_is_refused_by_the_writer_naming_the_canonical_path() -> (
    None
):
    with pytest.raises(MappingError) as caught:
        UPSERT.write(change("1250.5", "JPY"))
    assert caught.value.path == "salary.amount"
    assert caught.value.expected == "at most 0 decimals for JPY"


def test_an_unknown_currency_in_a_record_is_refused_naming_the_record() -> None:
    data = batch_xml(record_xml(1), record_xml(2, amount="100.00", currency="XEU"))
    SCHEMA.assertValid(xml.parse(data))  # [A-Z]{3}: the schema cannot know ISO 4217
    with pytest.raises(MappingError) as caught:
        BATCH.read(xml.parse(data))
    # The money reader names the amount it could not build, not the Currency element.
    assert caught.value.path.startswith("SubmitPayrollBatch/Batch/Record[2]/Salary/")
    assert caught.value.expected == "an ISO 4217 currency code"
    assert caught.value.got == "XEU"


# -- batches ---------------------------------------------------------------------------------------


def test_a_batch_with_a_bad_record_names_the_record_index_in_the_path() -> None:
    data = batch_xml(record_xml(1), record_xml(2), record_xml(3, amount="64000.001"), record_xml(4))
    SCHEMA.assertValid(xml.parse(data))  # three decimals fit the schema, not EUR
    with pytest.raises(MappingError) as caught:
        BATCH.read(xml.parse(data))
    assert caught.value.path == "SubmitPayrollBatch/Batch/Record[3]/Salary/Amount"
    assert caught.value.expected == "at most 2 decimals for EUR"
    assert caught.value.got == "64000.001"


def test_the_writer_names_the_index_of_a_bad_record() -> None:
    batch = PayrollBatch(
        batch_id="payroll-1",
        submitted_at=datetime(2025, 6, 2, 9, 15, tzinfo=UTC),
        records=[change(number=1), change(number=2), change("12.345", "EUR", number=3)],
    )
    with pytest.raises(MappingError) as caught:
        BATCH.write(batch)
    assert caught.value.path == "records[2].salary.amount"


def test_a_naive_submitted_at_is_refused_by_the_reader() -> None:
    data = batch_xml(record_xml(1), submitted_at="2025-06-02T09:15:00")
    SCHEMA.assertValid(xml.parse(data))  # xs:dateTime allows a missing time zone
    with pytest.raises(MappingError) as caught:
        BATCH.read(xml.parse(data))
    assert caught.value.path == "SubmitPayrollBatch/Batch/SubmittedAt"
    assert caught.value.got == "2025-06-02T09:15:00"


def test_a_naive_submitted_at_is_refused_by_the_writer() -> None:
    batch = PayrollBatch(
        batch_id="payroll-1", submitted_at=datetime(2025, 6, 2, 9, 15), records=[change()]
    )
    with pytest.raises(MappingError) as caught:
        BATCH.write(batch)
    assert caught.value.path == "submitted_at"


def test_a_batch_keeps_its_records_in_order() -> None:
    batch = BATCH.read(xml.parse(batch_xml(*(record_xml(n) for n in (3, 1, 2)))))
    assert [r.record_id for r in batch.records] == ["hr-3", "hr-1", "hr-2"]
    assert batch.submitted_at == datetime(2025, 6, 2, 9, 15, tzinfo=UTC)


def test_the_1000_record_bench_batch_is_schema_valid_and_maps_both_ways() -> None:
    document = xml.parse(BENCH.read_bytes())
    SCHEMA.assertValid(document)
    batch = BATCH.read(document)
    assert len(batch.records) == 1000
    assert {r.salary.amount.currency for r in batch.records} == {"EUR", "JPY", "BHD"}
    assert set(EmployeeAction) == {r.action for r in batch.records}
    produced = xml.parse(BATCH.write(batch))
    SCHEMA.assertValid(produced)
    assert BATCH.read(produced) == batch


# -- results ---------------------------------------------------------------------------------------


def test_an_upsert_result_carries_no_record_id() -> None:
    data = (
        f'<UpsertEmployeeResponse xmlns="{NS}"><EmployeeNo>E1001</EmployeeNo>'
        "<Status>REJECTED</Status><ReasonCode>EFFECTIVE_DATE_IN_CLOSED_PERIOD</ReasonCode>"
        "</UpsertEmployeeResponse>"
    )
    result = UPSERT_RESULT.read(xml.parse(data.encode()))
    assert result == EmployeeUpsertResult(
        employee_no="E1001",
        status=RecordStatus.REJECTED,
        reason_code="EFFECTIVE_DATE_IN_CLOSED_PERIOD",
    )
    assert written(UPSERT_RESULT.write_text(result)) == data


def test_a_partly_failed_batch_answers_one_result_per_record() -> None:
    result = PayrollBatchResult(
        batch_id="payroll-1",
        accepted=1,
        rejected=1,
        results=[
            RecordResult(record_id="hr-1", employee_no="E0001", status=RecordStatus.ACCEPTED),
            RecordResult(
                record_id="hr-2",
                employee_no="JP7",
                status=RecordStatus.REJECTED,
                reason_code="UNKNOWN_CURRENCY",
                reason_text="給与通貨 JPY は未登録です",
            ),
        ],
    )
    text = written(BATCH_RESULT.write_text(result))
    assert text.count("<Result>") == 2
    assert BATCH_RESULT.read(xml.parse(text.encode())) == result


def test_an_unknown_record_status_names_the_result_index() -> None:
    data = (
        f'<SubmitPayrollBatchResponse xmlns="{NS}"><BatchId>b</BatchId><Accepted>1</Accepted>'
        "<Rejected>0</Rejected><Result><EmployeeNo>E0001</EmployeeNo><Status>ACCEPTED</Status>"
        "</Result><Result><EmployeeNo>E0002</EmployeeNo><Status>PENDING</Status></Result>"
        "</SubmitPayrollBatchResponse>"
    )
    with pytest.raises(MappingError) as caught:
        BATCH_RESULT.read(xml.parse(data.encode()))
    assert caught.value.path == "SubmitPayrollBatchResponse/Result[2]/Status"
