"""SoapUpstream sends the correlation id as X-Request-ID: the one given, else the current one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from bridge.domain import AccountRef, AccountValidation
from bridge.domain.errors import UpstreamUnavailable
from bridge.mapping import Mappings
from bridge.observability.logging import correlated
from bridge.settings import ROOT
from bridge.upstream.corebank import OPERATIONS
from bridge.upstream.soap import SoapUpstream
from tests.common.live import serve_wsgi

VALIDATION = AccountValidation(
    account=AccountRef(iban="DE89370400440532013000"), holder_name="Bäckerei Müller"
)


class RecordingUpstream:
    """A loopback HTTP server's app: keeps each request's X-Request-ID (None when the request
    has none) and answers 503 without a SOAP body."""

    def __init__(self) -> None:
        self.request_ids: list[str | None] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.request_ids.append(environ.get("HTTP_X_REQUEST_ID"))
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down"]


@pytest.fixture
def upstream() -> RecordingUpstream:
    return RecordingUpstream()


@pytest.fixture
def corebank(mappings: Mappings, upstream: RecordingUpstream) -> Iterator[SoapUpstream]:
    with serve_wsgi(upstream) as url:
        yield SoapUpstream(
            "corebank",
            ROOT / "wsdl" / "upstream" / "corebank.wsdl",
            f"{url}/soap",
            mappings,
            OPERATIONS,
            timeout=5,
        )


def test_a_call_without_an_id_sends_the_current_one(
    corebank: SoapUpstream, upstream: RecordingUpstream
) -> None:
    with correlated("req-current-1"), pytest.raises(UpstreamUnavailable):
        corebank.call("ValidateAccount", VALIDATION)

    assert upstream.request_ids == ["req-current-1"]


def test_an_id_given_to_the_call_wins(corebank: SoapUpstream, upstream: RecordingUpstream) -> None:
    with correlated("req-current-1"), pytest.raises(UpstreamUnavailable):
        corebank.call("ValidateAccount", VALIDATION, correlation_id="req-given-2")

    assert upstream.request_ids == ["req-given-2"]


def test_outside_any_request_no_id_is_sent(
    corebank: SoapUpstream, upstream: RecordingUpstream
) -> None:
    with pytest.raises(UpstreamUnavailable):
        corebank.call("ValidateAccount", VALIDATION)

    assert upstream.request_ids == [None]
