"""Bring your own WSDL: imported contracts, from the files a person hands over to the services
the bridge serves.

    sources.py   reading a contract's files safely (no DTD, no network, nothing outside its folder)
    wsdl.py      WSDL 1.1 definitions -> ports and operations
    schemas.py   every xsd:schema of a contract -> one compiled validator
    loader.py    load_contract(): the three above -> a checked `model.Contract`
    encoding.py  SOAP encoding (RPC/encoded): what is served, what is refused at import
    messages.py  body_element(): the element a message's SOAP Body carries; encode_for_wire()
                 and decode_from_wire() between it and an RPC/encoded wire message
    config.py    service.yaml, the human-editable import file
    catalog.py   Catalog: every imported service, loaded and checked at start-up
    importer.py  import_contract() / remove_contract(): the files `bridge contract` writes
    diff.py      breaking-change diff of two contracts

Import the module you need: this package imports nothing itself, so that a command that only
diffs two WSDLs does not load the codecs the catalog compiles.
"""
