"""Two SOAP client libraries partners really use, zeep and suds, calling any contract generically.

A test holds an XML message (a sample of the operation's input, `bridge.mapping.samples`) and
needs the client's own call for it: each library reads the message with its own schema reading
(zeep's `parse`, suds's typed unmarshaller) into the arguments its service proxy takes, so the
request on the wire is the one the library builds, never one the test wrote. Each client records
the last envelope it received, and reads a given reply envelope the way it reads a live one, so
a test can compare what the client made of the live answer with what it makes of the expected
one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import zeep
from lxml import etree
from suds.client import Client as SudsClient
from suds.plugin import MessagePlugin
from suds.sax.parser import Parser
from suds.sudsobject import asdict
from suds.umx.typed import Typed
from zeep.helpers import serialize_object
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport


def zeep_client(wsdl_url: str, headers: Mapping[str, str]) -> tuple[zeep.Client, HistoryPlugin]:
    """A zeep client of the WSDL at `wsdl_url` sending `headers` on every request (an API key);
    it loads the WSDL's imports from where the WSDL points them (the door serving it)."""
    session = requests.Session()
    session.headers.update(headers)
    history = HistoryPlugin()
    client = zeep.Client(
        wsdl_url,
        transport=Transport(session=session, timeout=30),
        settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=False),
        plugins=[history],
    )
    return client, history


def zeep_call(client: zeep.Client, operation: str, message: etree._Element) -> Any:
    """Call `operation` with the arguments zeep reads from `message` (the input's Body child);
    the answer as plain data (`zeep.helpers.serialize_object`)."""
    binding_operation = client.service._binding._operations[operation]
    body = binding_operation.input.body
    value = body.parse(message, client.wsdl.types)
    if value is None:  # an RPC message without parts
        arguments: dict[str, Any] = {}
    elif hasattr(value, "__values__"):
        arguments = dict(value.__values__)
    else:  # an element of simple type
        arguments = {"_value_1": value}
    return serialize_object(getattr(client.service, operation)(**arguments))


def zeep_reading(client: zeep.Client, operation: str, envelope: bytes) -> Any:
    """What zeep makes of the reply `envelope` to `operation`, as plain data."""
    binding_operation = client.service._binding._operations[operation]
    return serialize_object(binding_operation.output.deserialize(etree.fromstring(envelope)))


class _Received(MessagePlugin):
    """Keeps the last reply suds received, as it arrived."""

    def __init__(self) -> None:
        self.reply: bytes = b""

    def received(self, context: Any) -> None:
        self.reply = bytes(context.reply)


def suds_client(wsdl_url: str, headers: Mapping[str, str]) -> tuple[SudsClient, _Received]:
    """A suds client of the WSDL at `wsdl_url`, sending `headers`. `unwrap=False`: every body
    part is one argument, so a wrapper element's attributes are carried too."""
    received = _Received()
    client = SudsClient(
        wsdl_url, headers=dict(headers), cache=None, unwrap=False, plugins=[received]
    )
    return client, received


def suds_call(client: SudsClient, operation: str, message: etree._Element, rpc: bool) -> Any:
    """Call `operation` with the arguments suds unmarshals from `message`: for RPC, one per part
    (the wrapper's children); for document style, the one body part, the whole message."""
    method = getattr(client.service, operation).method
    parameters = method.binding.input.param_defs(method)
    node = Parser().parse(string=etree.tostring(message)).root()
    reader = Typed(client.wsdl.schema)
    arguments: dict[str, Any] = {}
    if rpc:
        for definition in parameters:
            name, kind = definition[0], definition[1]
            values = [reader.process(child, kind) for child in node.getChildren(name)]
            if values:
                arguments[name] = values if len(values) > 1 else values[0]
    else:
        (definition,) = parameters
        arguments[definition[0]] = reader.process(node, definition[1])
    return plain(getattr(client.service, operation)(**arguments))


def suds_reading(client: SudsClient, operation: str, envelope: bytes) -> Any:
    """What suds makes of the reply `envelope` to `operation` (suds's own `__inject` of a
    reply: read as a live one, nothing sent), as plain data."""
    return plain(getattr(client.service, operation)(__inject={"reply": envelope}))


def plain(value: Any) -> Any:
    """A suds answer as dicts and lists, comparable with `==`."""
    if hasattr(value, "__keylist__"):
        return {key: plain(item) for key, item in asdict(value).items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
