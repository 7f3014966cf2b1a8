"""What an imported service's reply means, in SOAP 1.1 and 1.2 alike: only a Client (Sender)
fault is a "no", a declared fault is what its reader makes of it, anything else is unknown."""

from __future__ import annotations

import pytest

from bridge.domain.errors import (
    BridgeError,
    OutcomeUnknown,
    UpstreamFault,
    UpstreamRejected,
)
from bridge.upstream.transport import SOAP11, SOAP12, SoapVersion, reply_body

ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"


def fault12(code: str, detail: str = "") -> bytes:
    return (
        f'<e:Envelope xmlns:e="{ENV12}"><e:Body><e:Fault>'
        f"<e:Code><e:Value>e:{code}</e:Value></e:Code>"
        '<e:Reason><e:Text xml:lang="en">no</e:Text></e:Reason>'
        f"{detail}</e:Fault></e:Body></e:Envelope>"
    ).encode()


def fault11(code: str, detail: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{ENV11}"><s:Body><s:Fault>'
        f"<faultcode>s:{code}</faultcode><faultstring>no</faultstring>{detail}"
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


def judged(content: bytes, version: SoapVersion, **options: object) -> BridgeError:
    with pytest.raises(BridgeError) as raised:
        reply_body("vat", "checkVat", 500, content, version=version, **options)  # type: ignore[arg-type]
    return raised.value


def test_a_soap12_sender_fault_is_a_refusal() -> None:
    assert type(judged(fault12("Sender"), SOAP12)) is UpstreamRejected


def test_a_soap12_receiver_fault_leaves_the_outcome_unknown() -> None:
    assert isinstance(judged(fault12("Receiver"), SOAP12), OutcomeUnknown)


def test_a_soap11_envelope_answering_a_soap12_call_is_no_reply() -> None:
    assert isinstance(judged(fault11("Client"), SOAP12), OutcomeUnknown)


@pytest.mark.parametrize(
    ("content", "version"),
    [
        (fault12("Receiver", '<e:Detail><x:bad xmlns:x="urn:x">1</x:bad></e:Detail>'), SOAP12),
        (fault11("Server", '<detail><x:bad xmlns:x="urn:x">1</x:bad></detail>'), SOAP11),
    ],
)
def test_a_declared_fault_is_what_its_reader_makes_of_it(
    content: bytes, version: SoapVersion
) -> None:
    def declared(fault: object, entry: object) -> BridgeError:
        return UpstreamFault("vat", "checkVat: Bad", fault="Bad", content={"x": 1}, sender=False)

    error = judged(content, version, declared=declared)

    assert isinstance(error, UpstreamFault)
    assert (error.fault, error.content) == ("Bad", {"x": 1})


def test_a_reply_in_time_is_its_body_child() -> None:
    content = f'<e:Envelope xmlns:e="{ENV12}"><e:Body><r xmlns="urn:x"/></e:Body></e:Envelope>'

    reply = reply_body("vat", "checkVat", 200, content.encode(), version=SOAP12)

    assert reply.tag == "{urn:x}r"
