"""The classifier simulator's model "rules-1": keywords and entities decide, deterministically.

Score of a label = the weights of its distinct keywords found in the text (English, German,
Vietnamese and Japanese lists in `data/classifier_rules.yaml`, matched on a folded copy of the
text: case, accents, width ignored), + the document kind's weight (INVOICE: invoice +2),
+ one vote per entity pointing at it (ORDER_REF -> order_tracking, IBAN -> payment_issue,
INVOICE_NO -> invoice). The best score wins; ties go to the earlier label of the file.

Confidence = min(0.99, 0.5 + 0.15 x (best - runner-up) + 0.05 x best), four decimals: a clear
lead is confident, a tie stays near 0.5. No score at all -> "other" with 0.6000.

Entities are found on the text as sent (offsets count code points from 0, End exclusive):
IBAN (check digits valid; value without spaces), ORDER_REF ("ORD-2025-000123"), INVOICE_NO
(the number after "Rechnung Nr.", "Invoice No.", "Hóa đơn số"), AMOUNT (a number with a currency
code or sign before or after it, value as written). Overlaps keep IBAN, then ORDER_REF,
INVOICE_NO, AMOUNT.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.domain.iban import iban_valid
from bridge.sims.context import Wire

FOUR_PLACES = Decimal("0.0001")
CAP = Decimal("0.99")

_CURRENCY = r"(?:EUR|USD|GBP|JPY|VND|BHD|€|\$|£|¥|₫|円)"
_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?"
# (entity type, pattern, group holding the value), in the order overlaps are resolved.
ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    (
        "IBAN",
        re.compile(
            r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Z0-9])"
        ),
        0,
    ),
    ("ORDER_REF", re.compile(r"(?<![\w-])ORD-?\d{4}(?:-\d{1,12})?(?![\w-])"), 0),
    (
        "INVOICE_NO",
        re.compile(
            r"(?:Rechnung|Invoice|Hóa đơn|請求書)\s*(?:Nr\.?|No\.?|Number|số|番号)?\s*[:#]?\s*"
            r"([A-Z0-9][A-Z0-9/-]{1,30}[A-Z0-9])(?![\w/-])",
            re.IGNORECASE,
        ),
        1,
    ),
    (
        "AMOUNT",
        re.compile(
            rf"(?<![\w.,]){_CURRENCY}\s?(?:{_NUMBER})(?![\w.,])"
            rf"|(?<![\w.,])(?:{_NUMBER})\s?{_CURRENCY}(?!\w)"
        ),
        0,
    ),
)

_UNDECOMPOSED = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})


@dataclass(frozen=True)
class Keyword:
    label: str
    pattern: re.Pattern[str]
    weight: int


@dataclass(frozen=True)
class ClassifierRules:
    model_version: str
    labels: tuple[str, ...]
    keywords: tuple[Keyword, ...]
    kind_weights: Mapping[str, Mapping[str, int]]
    entity_votes: Mapping[str, str]
    fallback_label: str
    fallback_confidence: Decimal

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ClassifierRules:
        keywords = []
        for label, languages in data["labels"].items():
            for words in languages.values():
                for word, weight in words.items():
                    keywords.append(Keyword(label, _keyword_pattern(str(word)), int(weight)))
        return cls(
            model_version=str(data["model_version"]),
            labels=tuple(data["labels"]),
            keywords=tuple(keywords),
            kind_weights={kind: dict(weights) for kind, weights in data["kind_weights"].items()},
            entity_votes=dict(data["entity_votes"]),
            fallback_label=str(data["fallback_label"]),
            fallback_confidence=Decimal(str(data["fallback_confidence"])),
        )


def classify(document: Wire, rules: ClassifierRules) -> Wire:
    """ClassifyTextResult (wire) of one ClassifyTextRequest (wire)."""
    text = document["Text"]
    entities = find_entities(text)
    scores = dict.fromkeys(rules.labels, 0)
    folded = fold(text)
    for keyword in rules.keywords:
        if keyword.pattern.search(folded):
            scores[keyword.label] += keyword.weight
    for label, weight in rules.kind_weights.get(document["Kind"], {}).items():
        scores[label] += weight
    for entity in entities:
        voted = rules.entity_votes.get(entity["Type"])
        if voted is not None:
            scores[voted] += 1
    ranked = sorted(rules.labels, key=lambda label: -scores[label])  # stable: file order on ties
    best, runner_up = scores[ranked[0]], scores[ranked[1]] if len(ranked) > 1 else 0
    if best == 0:
        label, confidence = rules.fallback_label, rules.fallback_confidence
    else:
        label = ranked[0]
        raw = Decimal("0.5") + Decimal("0.15") * (best - runner_up) + Decimal("0.05") * best
        confidence = min(CAP, raw)
    result: Wire = {
        "DocumentId": document["DocumentId"],
        "Label": label,
        "Confidence": str(confidence.quantize(FOUR_PLACES)),
        "ModelVersion": rules.model_version,
    }
    if entities:
        result["Entity"] = entities
    return result


def find_entities(text: str) -> list[Wire]:
    taken: list[tuple[int, int]] = []
    found: list[Wire] = []
    for kind, pattern, group in ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span(group)
            value = match.group(group)
            if kind == "IBAN":
                value = value.replace(" ", "")
                if not 15 <= len(value) <= 34 or not iban_valid(value):
                    continue
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            found.append({"Type": kind, "Value": value, "Start": start, "End": end})
    return sorted(found, key=lambda entity: int(entity["Start"]))


def fold(text: str) -> str:
    """Lower case, no accents or marks, compatibility forms (full width) folded."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold()


def _keyword_pattern(word: str) -> re.Pattern[str]:
    folded = fold(word)
    left = r"(?<![a-z0-9])" if folded[:1].isascii() and folded[:1].isalnum() else ""
    right = r"(?![a-z0-9])" if folded[-1:].isascii() and folded[-1:].isalnum() else ""
    return re.compile(left + re.escape(folded) + right)
