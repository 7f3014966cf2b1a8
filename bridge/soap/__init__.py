"""The SOAP door: spyne services for the inbound contracts behind a checking WSGI gateway.

Folder map: `app` builds a door per contract; `gateway` checks HTTP, envelope, SOAPAction and
schema and serves ``?wsdl``; `protocol` lets the compiled mappings read and write the bodies;
`banking` and `partner` are the contracts as spyne models and services, built with `models`
on the base of `service`; `operations` describes a contract and its operations; `faults` is the
one error -> fault translation; `schema`, `paths` and `wsdl` name fields and compare contracts.
"""

from bridge.soap.app import create_banking_soap, create_partner_soap

__all__ = ["create_banking_soap", "create_partner_soap"]
