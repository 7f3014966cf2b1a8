"""Canonical classification messages that fit wsdl/upstream/classifier.wsdl."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import strategies as st

from bridge.domain import (
    ClassificationBatch,
    ClassificationBatchResult,
    ClassificationRequest,
    ClassificationResult,
    DocumentKind,
    Entity,
)
from tests.strategies.common import xml_text

DOCUMENT_IDS = xml_text(1, 64)  # DocumentId
_REAL_TEXTS = [
    "Xin chào, tôi chưa nhận được khoản hoàn tiền 2.500.000 ₫ cho đơn hàng ORD-2025-000123.",
    unicodedata.normalize("NFD", "Tiếng Việt: đổi địa chỉ giao hàng sang Đà Nẵng."),
    "Rechnung Nr. 2025-118 über 1.250,50 € – zahlbar an Bäckerei Müller GmbH.",  # noqa: RUF001
    "ログインできません。\nパスワードを再設定してもエラーが表示されます。",
    'Zeile 1\r\nZeile 2\twith a tab, <markup> & "quotes"',
]
# DocumentText: 1..20000 characters, whitespace kept as sent (xs:string), lines in any style.
TEXTS = st.one_of(
    st.sampled_from(_REAL_TEXTS),
    xml_text(1, 300),
    st.builds(
        lambda lines, separator: separator.join(lines),
        st.lists(xml_text(1, 40), min_size=2, max_size=4),
        st.sampled_from(["\n", "\r\n", "\t", "  "]),
    ),
)
LANGUAGES = st.from_regex(r"[a-z]{2}", fullmatch=True)  # LanguageCode
# Confidence: xs:decimal 0..1 with at most 4 fraction digits; 0.8800 and 0.88 both occur.
CONFIDENCES = st.decimals(min_value=0, max_value=1, places=4).flatmap(
    lambda value: st.sampled_from([value, value.normalize()])
)
# TextOffset: xs:int >= 0; Start and End come as a pair (End exclusive) or not at all.
OFFSETS = st.one_of(
    st.just((None, None)),
    st.lists(st.integers(0, 2**31 - 1), min_size=2, max_size=2).map(sorted).map(tuple),
)


def _entity(type_: str, value: str, offsets: tuple[int | None, int | None]) -> Entity:
    return Entity(type=type_, value=value, start=offsets[0], end=offsets[1])


ENTITIES = st.builds(_entity, xml_text(1, 64), xml_text(1, 200), OFFSETS)

REQUESTS = st.builds(
    ClassificationRequest,
    document_id=DOCUMENT_IDS,
    text=TEXTS,
    kind=st.sampled_from(DocumentKind),
    language=st.none() | LANGUAGES,
)
RESULTS = st.builds(
    ClassificationResult,
    document_id=DOCUMENT_IDS,
    label=xml_text(1, 64),  # Label
    confidence=CONFIDENCES,
    entities=st.lists(ENTITIES, max_size=4),
    model_version=xml_text(1, 64),  # ModelVersion
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    ClassificationRequest: REQUESTS,
    ClassificationResult: RESULTS,
    ClassificationBatch: st.builds(
        ClassificationBatch, documents=st.lists(REQUESTS, min_size=1, max_size=4)
    ),
    ClassificationBatchResult: st.builds(
        ClassificationBatchResult, results=st.lists(RESULTS, max_size=4)
    ),
    Entity: ENTITIES,
}
