"""The SOAP doors of the inbound contracts, each built once at start-up the same way.

create_banking_soap(bridge)  ->  SoapGateway  ->  spyne WsgiApplication  ->  BankingService
create_partner_soap(bridge)      (checks, ?wsdl)  (MappedSoap11 protocol)    ShippingService

What differs between doors is their `Contract` (the contract file, its namespace, its spyne
service and operations) and what their methods are handed (the door object); everything else,
gateway, protocol, schema validation and the served contract, is `create_soap`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import spyne.const
from spyne import Application
from spyne.server.wsgi import WsgiApplication

from bridge.mapping import Mappings
from bridge.mapping.schemas import contract_path, contract_validator
from bridge.mapping.xml import LIMITS, XmlLimits
from bridge.soap import banking, partner
from bridge.soap.faults import quiet_client_faults
from bridge.soap.gateway import MAX_BODY_BYTES, SoapGateway
from bridge.soap.operations import Contract
from bridge.soap.paths import ErrorFields
from bridge.soap.protocol import MappedSoap11
from bridge.soap.schema import ContractValidator
from bridge.soap.wsdl import served_contract

if TYPE_CHECKING:
    from bridge.components import Bridge
    from bridge.security import Security


def soap_application(contract: Contract, mappings: Mappings, door: Any) -> Any:
    """spyne's application of `contract`; `door` reaches the methods as ``ctx.app.config``
    (None is enough to generate the interface document)."""
    application = Application(
        [contract.service],
        tns=contract.namespace,
        name=contract.service_name,
        in_protocol=MappedSoap11(mappings, contract.operations),
        out_protocol=MappedSoap11(mappings, contract.operations),
        config=door,
    )
    for dependency in contract.dependencies:  # see `Contract.dependencies`
        application.interface.deps[dependency]
    return application


def banking_application(mappings: Mappings, door: banking.BankingDoor | None) -> Any:
    return soap_application(banking.CONTRACT, mappings, door)


def partner_application(mappings: Mappings, door: partner.PartnerDoor | None) -> Any:
    return soap_application(partner.CONTRACT, mappings, door)


def no_collection_per_request() -> None:
    """Stop spyne from running a full ``gc.collect()`` inside a request once a second.

    spyne's ``MethodContext.close()`` collects every `spyne.const.MIN_GC_INTERVAL` seconds (1.0)
    "to have file descriptors returned in a timely manner"; no method here holds files, and a
    full collection of the bridge's heap takes tens of milliseconds (about 60 ms measured here),
    in some caller's request, in every process. Process-wide, as the setting is; called when a
    SOAP door is built, never at import."""
    spyne.const.MIN_GC_INTERVAL = float("inf")


def create_soap(
    contract: Contract,
    door: Any,
    *,
    mappings: Mappings,
    base_url: str,
    contracts_dir: Path,
    security: Security,
    max_body_bytes: int = MAX_BODY_BYTES,
    xml_limits: XmlLimits = LIMITS,
) -> SoapGateway:
    """The WSGI application to mount at ``contract.mount``.

    Everything is built here, once: the mappings are the bridge's compiled ones, the schema is
    compiled, spyne's interface document is built for the configured public address (spyne
    would otherwise build it for the first caller's Host, DESIGN.md), and the served contract is
    the contract file in `contracts_dir` (`Settings.contracts_dir`) pointed at that address."""
    quiet_client_faults()
    no_collection_per_request()
    address = f"{base_url}{contract.mount}"
    soap = WsgiApplication(soap_application(contract, mappings, door))
    soap.doc.wsdl11.build_interface_document(address)
    return SoapGateway(
        soap,
        wsdl=served_contract(contract_path(contract.name, contracts_dir), address),
        operations=contract.operations,
        validator=ContractValidator(contract_validator(contract.name, contracts_dir)),
        security=security,
        max_body_bytes=max_body_bytes,
        xml_limits=xml_limits,
    )


def create_banking_soap(bridge: Bridge, *, max_body_bytes: int = MAX_BODY_BYTES) -> SoapGateway:
    """The banking door (wsdl/banking.wsdl at /soap/banking), calling `BankingService`."""
    door = banking.BankingDoor(
        banking=bridge.banking,
        field_of=ErrorFields(bridge.mappings, banking.OPERATIONS),
        links=bridge.security.links,
    )
    return _bridge_soap(bridge, banking.CONTRACT, door, max_body_bytes)


def create_partner_soap(bridge: Bridge, *, max_body_bytes: int = MAX_BODY_BYTES) -> SoapGateway:
    """The logistics partners' door (wsdl/partner.wsdl at /soap/partner), calling
    `ShippingService`."""
    door = partner.PartnerDoor(
        shipping=bridge.shipping, field_of=ErrorFields(bridge.mappings, partner.OPERATIONS)
    )
    return _bridge_soap(bridge, partner.CONTRACT, door, max_body_bytes)


def _bridge_soap(bridge: Bridge, contract: Contract, door: Any, max_body_bytes: int) -> SoapGateway:
    """`create_soap` with the bridge's mappings, public address, security and XML limits."""
    return create_soap(
        contract,
        door,
        mappings=bridge.mappings,
        base_url=bridge.settings.base_url,
        contracts_dir=bridge.settings.contracts_dir,
        security=bridge.security,
        max_body_bytes=max_body_bytes,
        xml_limits=XmlLimits(bridge.settings.xml_max_elements, bridge.settings.xml_max_depth),
    )
