"""Limits on what the REST door reads: a body over its byte limit is a 413, JSON nested deeper
than its limit a 400, each problem naming the limit; JSON that does not parse is a 400 naming
where it broke. The scan behind the depth limit is checked against a walk of parsed values."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask, request
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import Client, EnvironBuilder, TestResponse

from bridge.app import Bridge
from bridge.domain.errors import HostileDocument
from bridge.rest.app import create_rest_app
from bridge.rest.jsonlimits import (
    MAX_DEPTH,
    JsonProvider,
    LimitedRequest,
    check_depth,
    depth,
)
from bridge.rest.problems import InvalidJson
from bridge.settings import Settings
from tests.common.live import serve_bridge
from tests.common.rest import assert_problem

TRANSFERS = "/api/v1/transfers"
HOSTILE = Path(__file__).parents[1] / "data" / "hostile"


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _nested(levels: int, leaf: Any = 1) -> Any:
    """`leaf` inside `levels` arrays."""
    for _ in range(levels):
        leaf = [leaf]
    return leaf


def _walked_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_walked_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_walked_depth(v) for v in value), default=0)
    return 0


# -- the scan --------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(alphabet='[]{}"\\ a/é\n'),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='[]{}"\\ k', max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_scan_counts_the_nesting_a_parser_finds(value: Any) -> None:
    assert depth(_json(value)) == _walked_depth(value)
    assert depth(json.dumps(value).encode()) == _walked_depth(value)  # \uXXXX escapes


def test_brackets_quotes_and_backslashes_inside_strings_do_not_count() -> None:
    document = (HOSTILE / "brackets_in_strings.json").read_bytes()
    assert depth(document) == _walked_depth(json.loads(document)) == 3


def test_nesting_up_to_the_limit_is_accepted() -> None:
    check_depth(_json(_nested(MAX_DEPTH)))
    check_depth(_json({"a": _nested(MAX_DEPTH - 1)}))


def test_one_level_over_the_limit_is_refused_naming_the_limit() -> None:
    with pytest.raises(HostileDocument, match=f"deeper than {MAX_DEPTH} levels"):
        check_depth(_json({"a": _nested(MAX_DEPTH)}))


def test_nesting_far_past_every_parsers_own_limit_is_refused_as_too_deep() -> None:
    with pytest.raises(HostileDocument, match="deeper than"):
        check_depth((HOSTILE / "deep_array.json").read_bytes())


# -- Flask's JSON provider (request.get_json, flask-openapi3's body models) ------------------------


@pytest.fixture
def limited_app() -> Flask:
    app = Flask(__name__)
    app.json = JsonProvider(app, max_depth=4)
    return app


def _get_json(app: Flask, body: bytes, *, silent: bool = False) -> Any:
    with app.test_request_context(method="POST", data=body, content_type="application/json"):
        return request.get_json(silent=silent)


def test_provider_reads_json_up_to_its_depth(limited_app: Flask) -> None:
    assert _get_json(limited_app, b'{"a": [[["x"]]]}') == {"a": [[["x"]]]}


def test_provider_refuses_json_over_its_depth_even_when_asked_to_be_silent(
    limited_app: Flask,
) -> None:
    for silent in (False, True):
        with pytest.raises(HostileDocument, match="deeper than 4 levels"):
            _get_json(limited_app, b'{"a": [[[["x"]]]]}', silent=silent)


def test_provider_refuses_deep_json_sent_in_utf16(limited_app: Flask) -> None:
    with pytest.raises(HostileDocument, match="deeper than 4 levels"):
        _get_json(limited_app, '{"a": [[[["x"]]]]}'.encode("utf-16"))


def test_provider_refuses_invalid_json_naming_where_it_broke(limited_app: Flask) -> None:
    for silent in (False, True):
        with pytest.raises(InvalidJson, match="line 1 column 7"):
            _get_json(limited_app, b'{"a": ]', silent=silent)


def test_provider_refuses_bytes_that_are_not_text_naming_where(limited_app: Flask) -> None:
    with pytest.raises(InvalidJson, match="not utf-8 at byte 6"):
        _get_json(limited_app, b'{"a": \xff}')


def test_bridge_reads_json_through_the_provider_with_the_configured_depth(
    rest_bridge: Bridge,
) -> None:
    app = create_rest_app(rest_bridge)
    assert isinstance(app.json, JsonProvider)
    assert app.json.max_depth == rest_bridge.settings.json_max_depth


# -- the request class: body size, however the body is sent and read ------------------------------

BODY_LIMIT = 100


@pytest.fixture
def sized_app() -> Flask:
    app = Flask(__name__)
    app.request_class = LimitedRequest
    app.config["MAX_CONTENT_LENGTH"] = BODY_LIMIT
    return app


def _read(app: Flask, size: int, *, chunked: bool, whole: bool) -> bytes:
    environ = EnvironBuilder(method="POST", data=b"x" * size).get_environ()
    if chunked:
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
    with app.request_context(environ):
        if whole:
            return request.get_data()
        read = b""
        while chunk := request.stream.read(7):
            read += chunk
        return read


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("whole", [True, False], ids=["get_data", "read-until-empty"])
def test_body_of_the_limit_is_read_whole(sized_app: Flask, chunked: bool, whole: bool) -> None:
    assert _read(sized_app, BODY_LIMIT, chunked=chunked, whole=whole) == b"x" * BODY_LIMIT


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("whole", [True, False], ids=["get_data", "read-until-empty"])
def test_body_one_byte_longer_is_413_naming_the_limit_never_cut(
    sized_app: Flask, chunked: bool, whole: bool
) -> None:
    with pytest.raises(RequestEntityTooLarge, match=f"limit of {BODY_LIMIT} bytes"):
        _read(sized_app, BODY_LIMIT + 1, chunked=chunked, whole=whole)


def test_bridge_reads_bodies_through_the_limited_request(rest_bridge: Bridge) -> None:
    app = create_rest_app(rest_bridge)
    assert app.request_class is LimitedRequest
    assert app.config["MAX_CONTENT_LENGTH"] == rest_bridge.settings.rest_max_body_bytes


# -- the door: body size ---------------------------------------------------------------------------


def _limit(rest_bridge: Bridge) -> int:
    return rest_bridge.settings.rest_max_body_bytes


def _padded(transfer: dict[str, Any], size: int) -> bytes:
    """The transfer as JSON with trailing whitespace, `size` bytes in all."""
    body = _json(transfer)
    return body + b" " * (size - len(body))


def _chunked(client: Client, body: bytes) -> TestResponse:
    """POST `body` with no Content-Length, as a server hands on a chunked request."""
    builder = EnvironBuilder(
        path=TRANSFERS, method="POST", data=body, content_type="application/json"
    )
    try:
        sent = builder.get_request()
    finally:
        builder.close()
    del sent.environ["CONTENT_LENGTH"]
    sent.environ["wsgi.input_terminated"] = True
    response: TestResponse = client.open(sent)
    return response


def _post(client: Client, body: bytes) -> TestResponse:
    response: TestResponse = client.post(TRANSFERS, data=body, content_type="application/json")
    return response


def test_body_at_the_limit_is_accepted(
    client: Client, rest_bridge: Bridge, transfer: dict[str, Any]
) -> None:
    response = _post(client, _padded(transfer, _limit(rest_bridge)))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_body_one_byte_over_the_limit_is_413_naming_the_limit(
    client: Client, rest_bridge: Bridge, transfer: dict[str, Any]
) -> None:
    response = _post(client, _padded(transfer, _limit(rest_bridge) + 1))
    problem = assert_problem(response, 413, "request-entity-too-large")
    assert f"{_limit(rest_bridge)} bytes" in problem["detail"]


def test_chunked_body_at_the_limit_is_accepted(
    client: Client, rest_bridge: Bridge, transfer: dict[str, Any]
) -> None:
    response = _chunked(client, _padded(transfer, _limit(rest_bridge)))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_chunked_body_over_the_limit_is_413_naming_the_limit(
    client: Client, rest_bridge: Bridge, transfer: dict[str, Any]
) -> None:
    response = _chunked(client, _padded(transfer, _limit(rest_bridge) + 1))
    problem = assert_problem(response, 413, "request-entity-too-large")
    assert f"{_limit(rest_bridge)} bytes" in problem["detail"]


def test_configured_body_limit_is_the_doors(tmp_path: Path, transfer: dict[str, Any]) -> None:
    # Over a real socket, chunked, as a client streaming a body of unknown length sends it.
    with serve_bridge(
        database_url=f"sqlite:///{tmp_path / 'b.db'}", rest_max_body_bytes=2048
    ) as live:
        assert live.credentials is not None
        body = _padded(transfer, 2049)
        connection = http.client.HTTPConnection("127.0.0.1", int(live.url.rsplit(":", 1)[1]))
        try:
            connection.request(
                "POST",
                TRANSFERS,
                body=iter([body[:1000], body[1000:]]),
                headers={"Content-Type": "application/json", **live.credentials.headers},
                encode_chunked=True,
            )
            response = connection.getresponse()
            problem = json.loads(response.read())
        finally:
            connection.close()
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/problem+json"
    assert "2048 bytes" in problem["detail"]


# -- the door: JSON --------------------------------------------------------------------------------


def test_json_up_to_the_depth_limit_reaches_validation(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["remittance_info"] = _nested(MAX_DEPTH - 1, "x")  # the object is level 1
    response = _post(client, _json(transfer))
    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["path"] == "remittance_info"


def test_json_one_level_over_the_depth_limit_is_400_naming_the_limit(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["remittance_info"] = _nested(MAX_DEPTH, "x")
    problem = assert_problem(_post(client, _json(transfer)), 400, "hostile-document")
    assert f"deeper than {MAX_DEPTH} levels" in problem["detail"]


def test_hostile_deep_array_is_400_naming_the_limit(client: Client) -> None:
    problem = assert_problem(
        _post(client, (HOSTILE / "deep_array.json").read_bytes()), 400, "hostile-document"
    )
    assert f"deeper than {MAX_DEPTH} levels" in problem["detail"]


def test_brackets_inside_strings_are_not_nesting(client: Client) -> None:
    response = _post(client, (HOSTILE / "brackets_in_strings.json").read_bytes())
    assert response.status_code == 201, response.get_data(as_text=True)


def test_truncated_json_is_400_naming_where_it_broke(client: Client) -> None:
    problem = assert_problem(
        _post(client, (HOSTILE / "truncated.json").read_bytes()), 400, "invalid-json"
    )
    assert "line 3 column" in problem["detail"]


def test_default_limits_are_the_settings_defaults() -> None:
    assert Settings().json_max_depth == MAX_DEPTH
