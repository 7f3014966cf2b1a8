"""The classifier mappings (wsdl/upstream/classifier.wsdl): confidence is an exact Decimal and
its fraction digits are the schema's to police, entities and batch results keep their order,
errors name the result and the entity by position, and document text comes back exactly as sent,
whatever its script, normalisation form or line breaks."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bridge.domain import (
    ClassificationBatch,
    ClassificationRequest,
    ClassificationResult,
    DocumentKind,
    Entity,
)
from bridge.domain.errors import MappingError
from bridge.mapping import CompiledMapping, Mappings, xml
from bridge.mapping.schemas import contract_schema

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples" / "classifier"
CONTRACTS = DATA / "contracts"
NS = "urn:classifier:v1"
TEXT = "classifier/classify_text"
RESULT = "classifier/classify_text_result"
BATCH = "classifier/classify_batch"
BATCH_RESULT = "classifier/classify_batch_result"
VIETNAMESE_NFC = "Tiếng Việt: Tôi muốn đổi địa chỉ giao hàng sang Đà Nẵng cho đơn ORD-2025-000777."


def _sample(name: str) -> etree._Element:
    return xml.parse((SAMPLES / name).read_bytes())


def _child(parent: etree._Element, path: str) -> etree._Element:
    """`path` such as "Result[2]/Entity[1]/End" (XPath positions, from 1)."""
    found = parent.find("/".join(f"c:{step}" for step in path.split("/")), {"c": NS})
    assert found is not None, path
    return found


def _schema_error(document: etree._Element) -> str:
    schema = contract_schema("classifier")
    assert not schema.validate(document)
    return str(schema.error_log.last_error.message)


def _result(confidence: Decimal, **changes: object) -> ClassificationResult:
    values: dict[str, object] = {
        "document_id": "doc-000001",
        "label": "refund_request",
        "confidence": confidence,
        "model_version": "clf-2025.05.1",
    }
    return ClassificationResult(**{**values, **changes})  # type: ignore[arg-type]


def _request(text: str) -> ClassificationRequest:
    return ClassificationRequest(document_id="doc-1", text=text, kind=DocumentKind.MESSAGE)


def _refusal(mapping: CompiledMapping, document: etree._Element) -> MappingError:
    with pytest.raises(MappingError) as caught:
        mapping.read(document)
    return caught.value


# -- confidence: an exact Decimal, the schema polices its digits and range ------------------------


def test_confidence_is_an_exact_decimal_that_keeps_its_written_digits(mappings: Mappings) -> None:
    batch = mappings[BATCH_RESULT].read(_sample("classify_batch_result__three_results.xml"))

    confidences = [result.confidence for result in batch.results]
    assert [str(c) for c in confidences] == ["0.8800", "1", "0.42"]
    written = mappings[BATCH_RESULT].write(batch)
    assert b"<Confidence>0.8800</Confidence>" in written
    assert b"<Confidence>0.42</Confidence>" in written


def test_confidence_with_five_decimals_maps_exactly_and_only_the_schema_refuses_it(
    mappings: Mappings,
) -> None:
    """Decimal parsing does not round: 0.97315 reaches the canonical object unchanged, and the
    contract's fractionDigits 4 is what refuses the document."""
    name = "classifier_invalid_classify_text_response_confidence_five_decimals.xml"
    document = xml.parse((CONTRACTS / name).read_bytes())

    result = mappings[RESULT].read(document)

    assert result.confidence == Decimal("0.97315")
    assert _schema_error(document) == (
        "Element '{urn:classifier:v1}Confidence': [facet 'fractionDigits'] "
        "The value '0.97315' has more fractional digits than are allowed ('4')."
    )


def test_writer_does_not_round_a_confidence_with_five_decimals(mappings: Mappings) -> None:
    written = mappings[RESULT].write(_result(Decimal("0.12345")))

    assert b"<Confidence>0.12345</Confidence>" in written
    assert "[facet 'fractionDigits']" in _schema_error(xml.parse(written))


def test_confidence_that_is_not_a_number_is_a_mapping_error(mappings: Mappings) -> None:
    document = _sample("classify_text_result__refund_vi.xml")
    _child(document, "Confidence").text = "97%"

    error = _refusal(mappings[RESULT], document)

    assert str(error) == (
        "ClassifyTextResponse/Confidence: expected a decimal number such as 12.50 "
        "(ASCII digits, no exponent), got '97%'"
    )


def test_confidence_given_as_a_float_is_refused_when_written(mappings: Mappings) -> None:
    with pytest.raises(MappingError) as caught:
        mappings[RESULT].write(_result(0.5))  # type: ignore[arg-type]

    assert str(caught.value) == "confidence: expected a decimal number, got '0.5'"


# -- entities and batch results keep their order; errors name positions ---------------------------


def test_entities_keep_their_order_and_their_optional_offsets(mappings: Mappings) -> None:
    result = mappings[RESULT].read(_sample("classify_text_result__refund_vi.xml"))

    assert result.entities == [
        Entity(type="ORDER_REF", value="ORD-2025-000123", start=70, end=85),
        Entity(type="AMOUNT", value="2.500.000 ₫"),
    ]
    text = mappings[TEXT].read(_sample("classify_text__message_vi.xml")).text
    assert text[70:85] == "ORD-2025-000123"  # offsets count characters, not bytes


def test_result_without_entities_has_an_empty_list(mappings: Mappings) -> None:
    document = _sample("classify_text_result__low_confidence_no_entities.xml")

    result = mappings[RESULT].read(document)

    assert result.entities == []
    assert result.confidence == 0
    assert b"<Entity>" not in mappings[RESULT].write(result)


def test_bad_offset_in_the_second_entity_names_entity_2(mappings: Mappings) -> None:
    document = _sample("classify_text_result__invoice_de.xml")
    _child(document, "Entity[2]/Start").text = "27.0"

    error = _refusal(mappings[RESULT], document)

    assert str(error) == "ClassifyTextResponse/Entity[2]/Start: expected an integer, got '27.0'"


def test_error_inside_a_batch_result_names_the_result_and_the_entity(mappings: Mappings) -> None:
    document = _sample("classify_batch_result__three_results.xml")
    _child(document, "Result[2]/Entity[1]/End").text = "vierundachtzig"

    error = _refusal(mappings[BATCH_RESULT], document)

    assert error.path == "ClassifyBatchResponse/Result[2]/Entity[1]/End"
    assert str(error) == (
        "ClassifyBatchResponse/Result[2]/Entity[1]/End: expected an integer, got 'vierundachtzig'"
    )


def test_missing_model_version_in_the_third_result_names_result_3(mappings: Mappings) -> None:
    document = _sample("classify_batch_result__three_results.xml")
    result = _child(document, "Result[3]")
    result.remove(_child(result, "ModelVersion"))

    error = _refusal(mappings[BATCH_RESULT], document)

    assert str(error) == (
        "ClassifyBatchResponse/Result[3]/ModelVersion: expected a required element, got 'nothing'"
    )


def test_batch_result_with_three_results_keeps_their_order_both_ways(mappings: Mappings) -> None:
    mapping = mappings[BATCH_RESULT]
    batch = mapping.read(_sample("classify_batch_result__three_results.xml"))

    expected = [
        ("doc-000003", "login_problem"),
        ("doc-000004", "invoice"),
        ("doc-000005", "refund_request"),
    ]
    assert [(r.document_id, r.label) for r in batch.results] == expected
    written = xml.parse(mapping.write(batch))
    assert [_child(r, "DocumentId").text for r in written] == [i for i, _ in expected]
    assert mapping.read(written) == batch


def test_batch_keeps_document_order_and_optional_languages(mappings: Mappings) -> None:
    batch = mappings[BATCH].read(_sample("classify_batch__three_languages.xml"))

    assert [(d.document_id, d.kind, d.language) for d in batch.documents] == [
        ("doc-000003", DocumentKind.TICKET, "ja"),
        ("doc-000004", DocumentKind.INVOICE, None),
        ("doc-000005", DocumentKind.MESSAGE, "vi"),
    ]


def test_empty_batch_is_refused_by_the_mapping(mappings: Mappings) -> None:
    document = xml.parse((CONTRACTS / "classifier_invalid_classify_batch_empty.xml").read_bytes())

    error = _refusal(mappings[BATCH], document)

    assert str(error) == "ClassifyBatch/Document: expected a required element, got 'nothing'"


def test_empty_batch_is_written_and_only_the_schema_refuses_it(mappings: Mappings) -> None:
    """The writer does not know minOccurs: no documents write an empty <ClassifyBatch/>."""
    written = mappings[BATCH].write(ClassificationBatch(documents=[]))

    assert "Missing child element(s)" in _schema_error(xml.parse(written))


def test_empty_batch_result_maps_to_no_results(mappings: Mappings) -> None:
    batch = mappings[BATCH_RESULT].read(_sample("classify_batch_result__empty.xml"))

    assert batch.results == []


# -- document text comes back exactly as sent -----------------------------------------------------


def test_japanese_text_with_a_line_break_is_kept_exactly(mappings: Mappings) -> None:
    mapping = mappings[BATCH]
    batch = mapping.read(_sample("classify_batch__three_languages.xml"))

    text = batch.documents[0].text
    assert (
        text == "ログインできません。パスワードを再設定してもエラー「E-403」が表示されます。\n山田"
    )
    assert text[26:31] == "E-403"  # the offsets the classifier answers
    assert mapping.read(xml.parse(mapping.write(batch))) == batch


def test_decomposed_vietnamese_text_is_not_normalised(mappings: Mappings) -> None:
    """Offsets into Text count characters: NFC would shift every one after a combining mark."""
    mapping = mappings[TEXT]
    request = mapping.read(_sample("classify_text__ticket_vi_decomposed.xml"))

    assert request.text == unicodedata.normalize("NFD", VIETNAMESE_NFC)
    assert request.text != VIETNAMESE_NFC
    assert (len(request.text), len(VIETNAMESE_NFC)) == (96, 80)
    assert request.text[60:70] == unicodedata.normalize("NFD", "Đà Nẵng")
    written = mapping.write(request)
    assert "e\u0302\u0301".encode() in written  # ế as e + circumflex + acute, as sent
    assert mapping.read(xml.parse(written)).text == request.text


def test_carriage_returns_tabs_and_edge_spaces_survive_a_round_trip(mappings: Mappings) -> None:
    """xs:string keeps whitespace; a bare CR would become LF in any parser, so it is written
    as a character reference."""
    mapping = mappings[TEXT]
    request = _request("  Zeile 1\r\nZeile 2\tTab\rEnde  ")

    written = mapping.write(request)

    assert b"Zeile 1&#13;\nZeile 2\tTab&#13;Ende  </Text>" in written
    assert mapping.read(xml.parse(written)) == request
    contract_schema("classifier").assertValid(xml.parse(written))


def test_markup_characters_are_escaped_and_read_back(mappings: Mappings) -> None:
    mapping = mappings[TEXT]
    request = mapping.read(_sample("classify_text__invoice_de.xml"))

    assert request.document_id == "inv/2025/118 <Bäckerei>"
    written = mapping.write(request)
    assert b"<DocumentId>inv/2025/118 &lt;B\xc3\xa4ckerei&gt;</DocumentId>" in written
    assert mapping.read(xml.parse(written)) == request


def test_control_character_in_text_cannot_be_written(mappings: Mappings) -> None:
    with pytest.raises(MappingError) as caught:
        mappings[TEXT].write(_request("Achtung\x07"))

    assert str(caught.value) == "text: expected text without control characters, got 'Achtung\\x07'"


def test_unknown_kind_is_refused_naming_the_kinds(mappings: Mappings) -> None:
    document = _sample("classify_text__message_vi.xml")
    _child(document, "Kind").text = "EMAIL"

    error = _refusal(mappings[TEXT], document)

    assert str(error) == "ClassifyText/Kind: expected one of MESSAGE, INVOICE, TICKET, got 'EMAIL'"


# -- namespaces ------------------------------------------------------------------------------------


def test_prefixed_and_default_namespace_documents_map_the_same(mappings: Mappings) -> None:
    prefixed = (SAMPLES / "classify_text__invoice_de.xml").read_bytes()
    default = prefixed.replace(b"xmlns:clf=", b"xmlns=").replace(b"clf:", b"")
    other_prefix = prefixed.replace(b"clf", b"ns0")
    assert b"<ClassifyText xmlns=" in default

    read = [mappings.read_bytes(TEXT, data) for data in (prefixed, default, other_prefix)]

    assert read[0] == read[1] == read[2]
    assert read[0].kind is DocumentKind.INVOICE


def test_result_in_another_namespace_is_refused(mappings: Mappings) -> None:
    data = (SAMPLES / "classify_text_result__refund_vi.xml").read_bytes()
    data = data.replace(b"urn:classifier:v1", b"urn:classifier:v2")

    with pytest.raises(MappingError) as caught:
        mappings.read_bytes(RESULT, data)

    assert str(caught.value) == (
        "ClassifyTextResponse: expected the element ClassifyTextResponse in namespace "
        "urn:classifier:v1, got '{urn:classifier:v2}ClassifyTextResponse'"
    )


# -- which layer catches what: the mapping checks structure and types, the schema every facet -----

# contract sample -> (spec, what the mapping says; None: it maps and only the schema refuses it)
INVALID_SAMPLES: dict[str, tuple[str, str | None]] = {
    "classifier_invalid_classify_batch_empty.xml": (
        BATCH,
        "ClassifyBatch/Document: expected a required element, got 'nothing'",
    ),
    "classifier_invalid_classify_text_kind.xml": (
        TEXT,
        "ClassifyText/Kind: expected one of MESSAGE, INVOICE, TICKET, got 'EMAIL'",
    ),
    "classifier_invalid_classify_text_response_no_model_version.xml": (
        RESULT,
        "ClassifyTextResponse/ModelVersion: expected a required element, got 'nothing'",
    ),
    "classifier_invalid_classify_text_document_id_too_long.xml": (TEXT, None),  # maxLength 64
    "classifier_invalid_classify_text_empty_text.xml": (TEXT, None),  # minLength 1
    "classifier_invalid_classify_text_text_too_long.xml": (TEXT, None),  # maxLength 20000
    "classifier_invalid_classify_text_language_three_letters.xml": (TEXT, None),  # [a-z]{2}
    "classifier_invalid_classify_text_language_upper_case.xml": (TEXT, None),
    "classifier_invalid_classify_text_wrong_order.xml": (TEXT, None),  # reader ignores order
    "classifier_invalid_classify_text_response_confidence_five_decimals.xml": (RESULT, None),
    "classifier_invalid_classify_text_response_confidence_over_one.xml": (RESULT, None),
    "classifier_invalid_classify_text_response_confidence_percent.xml": (RESULT, None),  # 97.31
    "classifier_invalid_classify_text_response_label_empty.xml": (RESULT, None),
    "classifier_invalid_classify_text_response_negative_offset.xml": (RESULT, None),
}


@pytest.mark.parametrize("sample", sorted(INVALID_SAMPLES))
def test_invalid_contract_sample_is_refused_by_the_schema_and_maybe_first_by_the_mapping(
    mappings: Mappings, sample: str
) -> None:
    name, mapping_error = INVALID_SAMPLES[sample]
    document = xml.parse((CONTRACTS / sample).read_bytes())

    _schema_error(document)
    if mapping_error is None:
        mappings[name].read(document)
    else:
        assert str(_refusal(mappings[name], document)) == mapping_error


def test_every_invalid_classifier_contract_sample_is_in_the_table() -> None:
    assert {p.name for p in CONTRACTS.glob("classifier_invalid_*.xml")} == set(INVALID_SAMPLES)
