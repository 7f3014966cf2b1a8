"""RPC/encoded on the wire: what the imported service's client sends carries `xsi:type` and
`encodingStyle`, and an Axis-style reply (xsi:type on every part, a multi-reference value) is
read like a literal one, or refused as an unknown outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from bridge.contracts.loader import load_contract
from bridge.domain.errors import OutcomeUnknown
from bridge.upstream.breakers import circuit_breaker
from bridge.upstream.generic import ServiceUpstream

BYO = Path(__file__).resolve().parents[1] / "data" / "contracts" / "byo" / "rpc_encoded"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


class Capture:
    """A transport that keeps what is sent and answers a fixed reply."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.sent: list[bytes] = []

    def post(self, operation: str, envelope: bytes, headers: Any, *, timeout: Any = None) -> Any:
        self.sent.append(envelope)
        return 200, self.reply


def _upstream(reply_file: str) -> tuple[ServiceUpstream, Capture, Any]:
    contract = load_contract(BYO / "claims.wsdl", name="claims-wire")
    transport = Capture((BYO / "messages" / reply_file).read_bytes())  # a whole envelope
    upstream = ServiceUpstream(
        contract,
        transport,  # type: ignore[arg-type]
        circuit_breaker("claims-wire", fail_max=5, reset_timeout=30),
        fault_codecs={},
    )
    return upstream, transport, contract


def _request(contract: Any) -> Any:
    op = contract.operations["getClaim"]
    wrapper = etree.Element(op.input.element)
    etree.SubElement(wrapper, "claimId").text = "C-1"
    etree.SubElement(wrapper, "withHistory").text = "true"
    return wrapper


def test_the_request_goes_out_encoded_and_the_reply_is_read_as_literal() -> None:
    upstream, transport, contract = _upstream("getClaim.reply.xml")
    reply = upstream.call("getClaim", _request(contract))
    sent = etree.fromstring(transport.sent[0])
    wrapper = sent[0][0]
    assert wrapper.get("{http://schemas.xmlsoap.org/soap/envelope/}encodingStyle")
    assert all(part.get(f"{{{XSI}}}type") for part in wrapper)
    assert not [key for node in reply.iter() for key in node.attrib if key == f"{{{XSI}}}type"]
    assert contract.schema.validator.violation(reply) is None


def test_a_multi_reference_reply_is_an_unknown_outcome() -> None:
    upstream, _, contract = _upstream("getClaim.multiref.xml")
    with pytest.raises(OutcomeUnknown):
        upstream.call("getClaim", _request(contract))
