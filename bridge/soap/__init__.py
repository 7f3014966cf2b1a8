"""The SOAP door: spyne services for the inbound contracts behind a checking WSGI gateway.

Folder map: `app` builds the door; `gateway` checks HTTP, envelope, SOAPAction and schema and
serves ``?wsdl``; `protocol` lets the compiled mappings read and write the bodies; `banking` is
the contract as spyne models and the service; `faults` is the one error -> fault translation;
`schema`, `paths` and `wsdl` name fields and compare contracts.
"""

from bridge.soap.app import create_banking_soap

__all__ = ["create_banking_soap"]
