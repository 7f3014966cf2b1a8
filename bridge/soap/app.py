"""The SOAP door of the banking contract, built once at start-up.

create_banking_soap(bridge)  ->  SoapGateway  ->  spyne WsgiApplication  ->  BankingService
                                (checks, ?wsdl)   (MappedSoap11 protocol)     (use cases)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import spyne.const
from spyne import Application
from spyne.server.wsgi import WsgiApplication

from bridge.mapping import Mappings
from bridge.mapping.schemas import contract_path, contract_schema
from bridge.soap import banking
from bridge.soap.faults import quiet_client_faults
from bridge.soap.gateway import MAX_BODY_BYTES, SoapGateway
from bridge.soap.paths import ErrorFields
from bridge.soap.protocol import MappedSoap11
from bridge.soap.schema import ContractValidator
from bridge.soap.wsdl import served_contract

if TYPE_CHECKING:
    from bridge.app import Bridge

MOUNT = "/soap/banking"


def banking_application(mappings: Mappings, door: banking.Door | None) -> Any:
    """spyne's application of the banking contract; `door` reaches the methods as
    ``ctx.app.config`` (None is enough to generate the interface document)."""
    application = Application(
        [banking.BankingSoapService],
        tns=banking.NAMESPACE,
        name="BankingService",
        in_protocol=MappedSoap11(mappings, banking.OPERATIONS),
        out_protocol=MappedSoap11(mappings, banking.OPERATIONS),
        config=door,
    )
    # spyne 2.14 declares the base type of a simpleContent extension (an XmlData field) nowhere
    # in its schema; registering it as a dependency makes the generated document complete.
    application.interface.deps[banking.AmountValue]
    return application


def no_collection_per_request() -> None:
    """Stop spyne from running a full ``gc.collect()`` inside a request once a second.

    spyne's ``MethodContext.close()`` collects every `spyne.const.MIN_GC_INTERVAL` seconds (1.0)
    "to have file descriptors returned in a timely manner"; no method here holds files, and a
    full collection of the bridge's heap takes tens of milliseconds (about 60 ms measured here),
    in some caller's request, in every process. Process-wide, as the setting is; called when a
    SOAP door is built, never at import."""
    spyne.const.MIN_GC_INTERVAL = float("inf")


def create_banking_soap(bridge: Bridge, *, max_body_bytes: int = MAX_BODY_BYTES) -> SoapGateway:
    """The WSGI application to mount at `MOUNT`.

    Everything is built here, once: the mappings are the bridge's compiled ones, the schema is
    compiled, spyne's interface document is built for the configured public address (spyne
    would otherwise build it for the first caller's Host, DESIGN.md), and the served contract is
    the checked-in file pointed at that address."""
    quiet_client_faults()
    no_collection_per_request()
    address = f"{bridge.settings.base_url}{MOUNT}"
    door = banking.Door(
        banking=bridge.banking, field_of=ErrorFields(bridge.mappings, banking.OPERATIONS)
    )
    soap = WsgiApplication(banking_application(bridge.mappings, door))
    soap.doc.wsdl11.build_interface_document(address)
    return SoapGateway(
        soap,
        wsdl=served_contract(contract_path("banking"), address),
        operations=banking.OPERATIONS,
        validator=ContractValidator(contract_schema("banking")),
        max_body_bytes=max_body_bytes,
    )
