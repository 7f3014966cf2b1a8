"""The classifier simulator: deterministic labels, confidences and entities, once per DocumentId."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from zeep.helpers import serialize_object

from bridge.sims import SimControl
from tests.sims.messages import document

INVOICE_DE = (
    "Rechnung Nr. 2025-118 über 1.250,50 € \u2013 zahlbar bis 30. Juni an Bäckerei Müller GmbH, "
    "Königstraße 5, 70173 Stuttgart."
)
REFUND_VI = "Xin chào, tôi chưa nhận được khoản hoàn tiền 2.500.000 ₫ cho đơn hàng ORD-2025-000123."


@pytest.mark.parametrize(
    ("text", "kind", "label"),
    [
        (
            "Where is my order ORD-2025-000555? The tracking page shows nothing.",
            "MESSAGE",
            "order_tracking",
        ),
        (
            "Wo ist meine Sendung? Die Sendungsverfolgung zeigt nichts an.",
            "TICKET",
            "order_tracking",
        ),
        ("Tôi muốn đổi địa chỉ giao hàng cho đơn ORD-2025-000777.", "TICKET", "order_tracking"),
        ("I was charged twice, please refund EUR 49.90.", "MESSAGE", "payment_issue"),
        ("Die Zahlung wurde doppelt abgebucht, bitte Rückerstattung.", "MESSAGE", "payment_issue"),
        (REFUND_VI, "MESSAGE", "payment_issue"),
        (INVOICE_DE, "INVOICE", "invoice"),
        (
            "Please find attached invoice No. INV-2025-77, amount due USD 1,200.00.",
            "MESSAGE",
            "invoice",
        ),
        ("Hóa đơn số HD-0042 cho tháng 5.", "MESSAGE", "invoice"),
        ("ログインできません。", "TICKET", "other"),
    ],
)
def test_keyword_rules_decide_the_label(classifier: Any, text: str, kind: str, label: str) -> None:
    result = classifier.ClassifyText(**document("CL-1", text, kind))

    assert result.Label == label
    assert result.ModelVersion == "rules-1"
    assert Decimal(0) <= result.Confidence <= Decimal(1)
    assert result.Confidence == result.Confidence.quantize(Decimal("0.0001"))


def test_confidence_is_exact_and_reproducible(classifier: Any) -> None:
    refund = classifier.ClassifyText(**document("CL-C1", REFUND_VI))
    nothing = classifier.ClassifyText(**document("CL-C2", "Guten Tag."))

    # payment_issue 3 (hoàn tiền) against order_tracking 2 (đơn hàng, ORDER_REF):
    # 0.5 + 0.15 x 1 + 0.05 x 3.
    assert refund.Confidence == Decimal("0.8000")
    assert (nothing.Label, nothing.Confidence) == ("other", Decimal("0.6000"))


def test_entities_carry_values_and_code_point_offsets(classifier: Any) -> None:
    text = (
        "Bitte DE89 3704 0044 0532 0130 00 prüfen: ORD-2025-000123, 1.250,50 € "
        "(Rechnung Nr. 2025-118)."
    )

    result = classifier.ClassifyText(**document("CL-E1", text))

    found = [(e.Type, e.Value, e.Start, e.End) for e in result.Entity]
    assert found == [
        ("IBAN", "DE89370400440532013000", 6, 33),
        ("ORDER_REF", "ORD-2025-000123", 42, 57),
        ("AMOUNT", "1.250,50 €", 59, 69),
        ("INVOICE_NO", "2025-118", 84, 92),
    ]
    for _, _, start, end in found:
        assert text[start:end]


def test_decomposed_vietnamese_is_classified_like_composed(classifier: Any) -> None:
    composed = "Tôi muốn đổi địa chỉ giao hàng cho đơn ORD-2025-000777."
    decomposed = unicodedata.normalize("NFD", composed)

    first = classifier.ClassifyText(**document("CL-NFC", composed))
    second = classifier.ClassifyText(**document("CL-NFD", decomposed))

    assert (first.Label, first.Confidence) == (second.Label, second.Confidence)
    assert decomposed[second.Entity[0].Start : second.Entity[0].End] == "ORD-2025-000777"


def test_a_batch_answers_one_result_per_document_in_order(classifier: Any) -> None:
    documents = [
        document("CL-B1", "Where is my parcel?"),
        document("CL-B2", INVOICE_DE, "INVOICE"),
        document("CL-B3", REFUND_VI, Language="vi"),
    ]

    results = classifier.ClassifyBatch(Document=documents)

    assert [(r.DocumentId, r.Label) for r in results] == [
        ("CL-B1", "order_tracking"),
        ("CL-B2", "invoice"),
        ("CL-B3", "payment_issue"),
    ]


def test_a_document_id_is_classified_once_across_text_and_batch_calls(
    classifier: Any, control: Callable[[str], SimControl]
) -> None:
    first = classifier.ClassifyText(**document("CL-ONCE", "Where is my parcel?"))
    batch = classifier.ClassifyBatch(
        Document=[document("CL-ONCE", "A different text now"), document("CL-ONCE", "again")]
    )
    again = classifier.ClassifyText(**document("CL-ONCE", "Where is my parcel?"))

    assert serialize_object(batch[0]) == serialize_object(first)
    assert serialize_object(batch[1]) == serialize_object(first)
    assert serialize_object(again) == serialize_object(first)
    assert len(control("classifier").effects(key="CL-ONCE")) == 1
    calls = control("classifier").calls()
    assert [(c["operation"], c["duplicate"]) for c in calls] == [
        ("ClassifyText", False),
        ("ClassifyBatch", True),
        ("ClassifyText", True),
    ]
    assert calls[1]["summary"]["conflicts"] == ["CL-ONCE", "CL-ONCE"]
