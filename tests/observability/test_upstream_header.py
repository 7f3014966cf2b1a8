"""SoapUpstream sends the correlation id as X-Request-ID: the one given, else the current one."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

from bridge.domain import AccountRef, AccountValidation
from bridge.domain.errors import UpstreamUnavailable
from bridge.mapping import Mappings
from bridge.observability.logging import correlated
from bridge.settings import ROOT
from bridge.upstream.corebank import OPERATIONS
from bridge.upstream.soap import SoapUpstream

VALIDATION = AccountValidation(
    account=AccountRef(iban="DE89370400440532013000"), holder_name="Bäckerei Müller"
)


class RecordingAdapter(BaseAdapter):
    """The HTTP seam: keeps each request's headers and answers 503 without a SOAP body."""

    def __init__(self) -> None:
        super().__init__()
        self.request_ids: list[str | None] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.request_ids.append(request.headers.get("X-Request-ID"))
        response = requests.Response()
        response.status_code, response.request = 503, request
        response.raw = HTTPResponse(BytesIO(b"down"), status=503, preload_content=False)
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
def corebank(mappings: Mappings, adapter: RecordingAdapter) -> SoapUpstream:
    session = requests.Session()
    session.mount("http://", adapter)
    return SoapUpstream(
        "corebank",
        ROOT / "wsdl" / "upstream" / "corebank.wsdl",
        "http://corebank.invalid/soap",
        mappings,
        OPERATIONS,
        timeout=5,
        session=session,
    )


def test_a_call_without_an_id_sends_the_current_one(
    corebank: SoapUpstream, adapter: RecordingAdapter
) -> None:
    with correlated("req-current-1"), pytest.raises(UpstreamUnavailable):
        corebank.call("ValidateAccount", VALIDATION)

    assert adapter.request_ids == ["req-current-1"]


def test_an_id_given_to_the_call_wins(corebank: SoapUpstream, adapter: RecordingAdapter) -> None:
    with correlated("req-current-1"), pytest.raises(UpstreamUnavailable):
        corebank.call("ValidateAccount", VALIDATION, correlation_id="req-given-2")

    assert adapter.request_ids == ["req-given-2"]


def test_outside_any_request_no_id_is_sent(
    corebank: SoapUpstream, adapter: RecordingAdapter
) -> None:
    with pytest.raises(UpstreamUnavailable):
        corebank.call("ValidateAccount", VALIDATION)

    assert adapter.request_ids == [None]
