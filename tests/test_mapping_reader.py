"""The generated readers (bridge/mapping/readgen.py): the order in which a reader refuses, and
a spec's text kept out of the generated source."""

from __future__ import annotations

import linecache
from decimal import Decimal

import pytest
from lxml import etree

from bridge.domain import PayrollBatch, StatusReason
from bridge.domain.errors import MappingError
from bridge.mapping import CompiledMapping, Mappings, xml
from bridge.mapping.scalars import Currencies, escape
from bridge.mapping.spec import FieldSpec, MessageSpec

ALL = Mappings.load()
PAYROLL = "urn:payroll:v1"
# A namespace URI may hold quotes and text that reads as Python.
ODD_NAMESPACE = "urn:x')or(__import__('os').getpid())or('"


def _batch(*records: str) -> bytes:
    body = "".join(f"<Record>{record}</Record>" for record in records)
    return (
        f'<SubmitPayrollBatch xmlns="{PAYROLL}"><Batch><BatchId>b-1</BatchId>'
        f"<SubmittedAt>2025-06-02T09:15:00Z</SubmittedAt>{body}</Batch></SubmitPayrollBatch>"
    ).encode()


RECORD_ELEMENTS = (
    "<RecordId>r-{n}</RecordId>",
    "<EmployeeNo>E{n}</EmployeeNo>",
    "<GivenName>A</GivenName>",
    "<FamilyName>B</FamilyName>",
    "<Salary><Amount>{amount}</Amount><Currency>EUR</Currency><Period>MONTHLY</Period></Salary>",
    "<WeeklyHours>40</WeeklyHours>",
    "<BankAccount>DE89370400440532013000</BankAccount>",
    "<EffectiveDate>2025-06-20</EffectiveDate>",
    "<Action>HIRE</Action>",
)
RECORD = "".join(RECORD_ELEMENTS)


def _refusal(document: bytes) -> MappingError:
    with pytest.raises(MappingError) as caught:
        ALL.read_bytes("payroll/payroll_batch", document)
    return caught.value


def test_children_in_any_order_read_the_same() -> None:
    record = RECORD.format(n=1, amount="10.5")
    shuffled = "".join(reversed(RECORD_ELEMENTS)).format(n=1, amount="10.5")

    batch = ALL.read_bytes("payroll/payroll_batch", _batch(shuffled))

    assert batch == ALL.read_bytes("payroll/payroll_batch", _batch(record))
    assert batch.records[0].salary.amount.amount == Decimal("10.50")


def test_a_repeated_element_is_refused_before_its_text_is_read() -> None:
    record = RECORD.format(n=1, amount="1").replace(
        "<WeeklyHours>40</WeeklyHours>", "<WeeklyHours>40</WeeklyHours><WeeklyHours>x</WeeklyHours>"
    )
    error = _refusal(_batch(record))
    assert (error.path, error.expected) == (
        "SubmitPayrollBatch/Batch/Record[1]/WeeklyHours",
        "this element at most once",
    )


def test_an_item_is_named_by_its_position_and_read_before_the_items_after_it() -> None:
    good, bad = RECORD.format(n=1, amount="1"), RECORD.format(n=2, amount="1.001")
    error = _refusal(_batch(good, good, bad, "<Unknown/>"))
    assert error.path == "SubmitPayrollBatch/Batch/Record[3]/Salary/Amount"
    assert error.expected == "at most 2 decimals for EUR"


def test_the_first_missing_field_in_the_specs_order_is_named() -> None:
    record = RECORD.format(n=1, amount="1")
    without = record.replace("<GivenName>A</GivenName>", "").replace(
        "<EmployeeNo>E1</EmployeeNo>", ""
    )
    error = _refusal(_batch(without))
    assert (error.path, error.expected) == (
        "SubmitPayrollBatch/Batch/Record[1]/EmployeeNo",
        "a required element",
    )


def test_an_amount_without_its_currency_element_is_refused_after_the_element() -> None:
    record = RECORD.format(n=1, amount="1").replace("<Currency>EUR</Currency>", "")
    error = _refusal(_batch(record))
    assert (error.path, error.expected) == (
        "SubmitPayrollBatch/Batch/Record[1]/Salary/Currency",
        "a currency code",
    )


def test_comments_left_in_a_tree_carry_no_data() -> None:
    root = etree.fromstring(_batch(RECORD.format(n=1, amount="1")))
    for element in list(root.iter("*")):
        element.append(etree.Comment("note"))
        element.insert(0, etree.ProcessingInstruction("pi", "x"))
    batch = ALL["payroll/payroll_batch"].read(root)
    assert isinstance(batch, PayrollBatch)
    assert batch.records[0].record_id == "r-1"


def _odd_mapping() -> CompiledMapping:
    spec = MessageSpec(
        name="test/odd",
        contract="test",
        element="Reason",
        namespace=ODD_NAMESPACE,
        model="StatusReason",
        fields=(
            FieldSpec(names=("code",), path="Cd"),
            FieldSpec(names=("additional_info",), path="o:Info"),
        ),
        namespaces={"o": ODD_NAMESPACE + "#other"},
    )
    return CompiledMapping(spec, {}, Currencies({"EUR": 2}))


def _odd_document(info_namespace: str) -> etree._Element:
    ns, info = (escape(n) for n in (ODD_NAMESPACE, info_namespace))
    return xml.parse(
        f'<Reason xmlns="{ns}"><Cd>AC01</Cd><Info xmlns="{info}">closed</Info></Reason>'.encode()
    )


def test_a_specs_text_is_never_part_of_the_generated_source() -> None:
    mapping = _odd_mapping()

    assert mapping.read(_odd_document(ODD_NAMESPACE + "#other")) == StatusReason(
        code="AC01", additional_info="closed"
    )

    code = mapping._reader.read.__code__
    source = "".join(linecache.getlines(code.co_filename))
    assert source.startswith("def read(e0):")
    for text in ("urn:x", "__import__", "Cd", "Info", "Reason", "AC01"):
        assert text not in source


def test_an_odd_namespace_is_still_told_apart() -> None:
    with pytest.raises(MappingError) as caught:
        _odd_mapping().read(_odd_document(ODD_NAMESPACE))  # Info not in the namespace o:

    assert caught.value.path == "Reason/Info"
    assert caught.value.got == f"Info in namespace {ODD_NAMESPACE}"
