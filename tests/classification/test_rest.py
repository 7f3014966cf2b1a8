"""`/api/v1/classifications` over the whole app with a fake classifier."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.domain.errors import UpstreamUnavailable
from tests.common.classification import case, documents
from tests.common.classifier import FakeClassifier
from tests.common.rest import assert_problem, post_json

URL = "/api/v1/classifications"


def _body(index: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = documents()[index]["request"]
    return body


def test_post_queues_the_document_and_answers_202_with_its_location(client: Client) -> None:
    response = post_json(client, URL, _body())

    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["document_id"], body["label"]) == ("queued", "DOC-EN-0001", None)
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert client.get(response.headers["Location"]).get_json() == body


def test_post_with_wait_answers_200_with_the_result(
    client: Client, classifier: FakeClassifier
) -> None:
    classifier.confidences["DOC-EN-0001"] = Decimal("0.4200")

    response = post_json(client, URL + "?wait=true", _body())

    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["label"], body["confidence"], body["needs_review"]) == (
        "classified",
        "label-of-message",
        "0.4200",
        True,
    )
    assert body["entities"] == [{"type": "WORD", "value": "Hello,", "start": 0, "end": None}]
    assert response.headers["Location"] == f"{URL}/{body['id']}"


def test_post_with_wait_and_the_classifier_down_answers_202_queued_with_the_reason(
    client: Client, classifier: FakeClassifier, fake_bridge: Bridge
) -> None:
    classifier.failures = [UpstreamUnavailable("classifier", "ClassifyText: HTTP 500")] * 2

    response = post_json(client, URL + "?wait=true", _body())

    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["error"]) == ("queued", "classifier: ClassifyText: HTTP 500")
    assert fake_bridge.sync.run("classification").delivered == 1
    assert client.get(response.headers["Location"]).get_json()["status"] == "classified"


def test_with_the_classifier_down_its_circuit_opens_and_waiting_callers_are_answered_at_once(
    client: Client, classifier: FakeClassifier, fake_bridge: Bridge
) -> None:
    """The circuit the classification job sends through: wait=true calls count towards it, and
    once it is open they are not made (each would have waited out the classifier's timeout)."""
    classifier.down_after = 0
    breaker = fake_bridge.sync.breakers["classifier"]

    def post(index: int) -> Any:
        body = _body() | {"document_id": f"DOC-DOWN-{index:04d}"}
        response = post_json(client, URL + "?wait=true", body)
        assert response.status_code == 202, response.get_json()
        return response.get_json()

    posted = 0
    while breaker.current_state != "open":
        assert post(posted)["status"] == "queued"
        posted += 1
        assert posted <= breaker.fail_max, "the circuit never opened"
    calls = len(classifier.calls)

    answer = post(posted)

    assert answer["status"] == "queued"
    assert "circuit open" in answer["error"]
    assert len(classifier.calls) == calls  # nobody waited for a classifier known to be down


def test_the_same_document_posted_again_is_the_same_classification(
    client: Client, classifier: FakeClassifier
) -> None:
    first = post_json(client, URL, _body()).get_json()

    again = post_json(client, URL + "?wait=true", _body())

    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert post_json(client, URL, _body()).get_json()["status"] == "classified"
    assert classifier.sent() == ["DOC-EN-0001"]


def test_a_document_id_reused_for_another_text_is_a_422(client: Client) -> None:
    post_json(client, URL, _body())

    response = post_json(client, URL, {**_body(), "text": "Another text"})

    problem = assert_problem(response, 422, "idempotency-key-reused")
    assert "DOC-EN-0001" in problem["detail"]


def test_a_document_the_classifier_contract_refuses_is_a_400_naming_the_field(
    client: Client, fake_bridge: Bridge
) -> None:
    refused = case("refused_language")

    response = post_json(client, URL, refused["request"])

    problem = assert_problem(response, 400, "mapping-error")
    assert [e["path"] for e in problem["errors"]] == [refused["refused_field"]]
    assert fake_bridge.sync.outbox.depth() == {}


@pytest.mark.parametrize(
    ("change", "path"),
    [({"kind": "LETTER"}, "kind"), ({"text": None}, "text"), ({"colour": "red"}, "colour")],
)
def test_a_body_that_is_not_a_classification_request_is_a_400(
    client: Client, change: dict[str, Any], path: str
) -> None:
    response = post_json(client, URL, {**_body(), **change})

    problem = assert_problem(response, 400, "mapping-error")
    assert [e["path"] for e in problem["errors"]] == [path]


def test_an_idempotency_key_replays_the_first_answer(client: Client) -> None:
    first = post_json(client, URL, _body(), **{"Idempotency-Key": "k-1"})

    again = post_json(client, URL, _body(), **{"Idempotency-Key": "k-1"})

    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()


def test_get_finds_a_classification_by_document_id_and_cuts_it_to_fields(client: Client) -> None:
    post_json(client, URL, _body())

    response = client.get(f"{URL}/DOC-EN-0001?fields=document_id,status,entities.type")

    assert response.status_code == 200
    assert response.get_json() == {"document_id": "DOC-EN-0001", "status": "queued", "entities": []}


def test_get_of_an_unknown_classification_is_a_404(client: Client) -> None:
    assert_problem(client.get(f"{URL}/DOC-NOPE"), 404, "not-found")


def test_an_unknown_field_is_a_400(client: Client) -> None:
    post_json(client, URL, _body())

    problem = assert_problem(client.get(f"{URL}/DOC-EN-0001?fields=colour"), 400, "mapping-error")
    assert problem["errors"][0]["got"] == "colour"


def test_the_review_queue_lists_only_low_confidence_results(
    client: Client, classifier: FakeClassifier
) -> None:
    classifier.confidences["DOC-DE-0002"] = Decimal("0.3000")
    for index in range(3):
        post_json(client, URL + "?wait=true", _body(index))

    response = client.get(f"{URL}?needs_review=true&fields=document_id,confidence")

    assert response.get_json() == {
        "classifications": [{"document_id": "DOC-DE-0002", "confidence": "0.3000"}],
        "next_cursor": None,
    }


def test_the_list_filters_by_status(client: Client, fake_bridge: Bridge) -> None:
    post_json(client, URL, _body(0))
    post_json(client, URL + "?wait=true", _body(1))

    queued = client.get(f"{URL}?status=queued").get_json()["classifications"]
    classified = client.get(f"{URL}?status=classified").get_json()["classifications"]

    assert [c["document_id"] for c in queued] == ["DOC-EN-0001"]
    assert [c["document_id"] for c in classified] == ["DOC-DE-0002"]
    assert client.get(f"{URL}?status=dead").get_json()["classifications"] == []


def test_the_list_pages_with_a_cursor_oldest_first(client: Client) -> None:
    for index in range(3):
        post_json(client, URL, _body(index))

    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(URL + query).get_json()
        seen += [c["document_id"] for c in page["classifications"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["DOC-EN-0001", "DOC-DE-0002", "DOC-VI-0003"]
    assert pages == 2


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJ2IjoyfQ", "%C3%A9"])
def test_a_cursor_that_is_not_one_is_a_400(client: Client, cursor: str) -> None:
    problem = assert_problem(client.get(f"{URL}?cursor={cursor}"), 400, "mapping-error")
    assert problem["errors"][0]["path"] == "cursor"


@pytest.mark.parametrize("query", ["status=lost", "needs_review=maybe", "limit=0", "limit=501"])
def test_bad_list_parameters_are_a_400(client: Client, query: str) -> None:
    assert_problem(client.get(f"{URL}?{query}"), 400, "mapping-error")


def test_the_openapi_document_describes_both_answers_of_post(client: Client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    post = spec["paths"][URL]["post"]

    assert set(post["responses"]) >= {"200", "202", "400", "422"}
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClassificationRequest"
    }
    assert [p["name"] for p in post["parameters"]] == ["wait", "Idempotency-Key"]
    confidence = spec["components"]["schemas"]["Classification"]["properties"]["confidence"]
    assert "string" in str(confidence)
