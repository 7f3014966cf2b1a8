"""What `SoapUpstream` makes of each answer a hostile network can give: only a SOAP Client fault
is a refusal; a connection never made is "not sent"; everything else is an unknown outcome."""

from __future__ import annotations

import pytest

from bridge.domain import AccountRef, AccountValidation
from bridge.domain.errors import (
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.mapping import Mappings
from bridge.settings import ROOT
from bridge.upstream.corebank import OPERATIONS
from bridge.upstream.soap import SoapUpstream
from tests.common.live import free_port
from tests.common.network import UPSTREAM_TIMEOUT, Network
from tests.hostile_network import UNKNOWN_OUTCOME, Shape

pytestmark = pytest.mark.slow

VALIDATION = AccountValidation(
    account=AccountRef(iban="DE89370400440532013000"), holder_name="Bäckerei Müller"
)
TIMEOUTS = {Shape.TIMEOUT_BEFORE, Shape.TIMEOUT_AFTER, Shape.DRIP}


def corebank_at(address: str, mappings: Mappings) -> SoapUpstream:
    return SoapUpstream(
        "corebank",
        ROOT / "wsdl" / "upstream" / "corebank.wsdl",
        address,
        mappings,
        OPERATIONS,
        timeout=UPSTREAM_TIMEOUT,
    )


@pytest.mark.parametrize("shape", UNKNOWN_OUTCOME, ids=str)
def test_an_answer_that_is_no_reply_leaves_the_outcome_unknown(
    network: Network, mappings: Mappings, shape: Shape
) -> None:
    proxy = network.proxies["corebank"]
    proxy.script("ValidateAccount", shape)

    with pytest.raises(OutcomeUnknown) as raised:
        corebank_at(proxy.url, mappings).call("ValidateAccount", VALIDATION)

    assert isinstance(raised.value, UpstreamTimeout) == (shape in TIMEOUTS), raised.value.detail
    assert raised.value.detail.startswith("corebank: ValidateAccount: ")


def test_a_client_fault_is_a_refusal(network: Network, mappings: Mappings) -> None:
    proxy = network.proxies["corebank"]
    proxy.script("ValidateAccount", Shape.CLIENT_FAULT)

    with pytest.raises(UpstreamRejected, match="refused by a hostile proxy"):
        corebank_at(proxy.url, mappings).call("ValidateAccount", VALIDATION)


def test_a_connection_never_made_is_unavailable_but_not_unknown(mappings: Mappings) -> None:
    with pytest.raises(UpstreamUnavailable) as raised:
        corebank_at(f"http://127.0.0.1:{free_port()}/sims/corebank", mappings).call(
            "ValidateAccount", VALIDATION
        )

    assert not isinstance(raised.value, OutcomeUnknown)
    assert "not sent" in raised.value.detail


def test_the_same_call_through_a_behaving_proxy_is_answered(
    network: Network, mappings: Mappings
) -> None:
    checked = corebank_at(network.proxies["corebank"].url, mappings).call(
        "ValidateAccount", VALIDATION
    )

    assert checked.known
