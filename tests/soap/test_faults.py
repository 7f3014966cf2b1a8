"""Every error of the bridge becomes one SOAP 1.1 fault, in one function (`soap_fault`)."""

from __future__ import annotations

import logging

import pytest
from lxml import etree
from spyne import Fault as SpyneFault

from bridge.domain.errors import (
    ConfigurationError,
    Conflict,
    HostileDocument,
    InProgress,
    InvalidInput,
    KeyReused,
    MappingError,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.mapping.schemas import contract_schema
from bridge.soap.faults import (
    IN_PROGRESS_RETRY_AFTER,
    InvalidField,
    MustUnderstand,
    VersionMismatch,
    fault_envelope,
    quiet_client_faults,
    soap_fault,
)
from tests.common.soap import BANKING, read_fault

CID = "cid-123"

# error -> (faultcode, kind, carries the contract's ValidationFault, RetryAfter)
TABLE = [
    (VersionMismatch("SOAP 1.2"), "VersionMismatch", "version-mismatch", False, None),
    (MustUnderstand("header X"), "MustUnderstand", "must-understand", False, None),
    (InvalidField("TransferFunds/Amt", "too small"), "Client", "invalid-field", True, None),
    (
        MappingError("TransferFunds/Amt", "at most 2 decimals for EUR", "1.005"),
        "Client",
        "mapping-error",
        True,
        None,
    ),
    (KeyReused("MsgId reused"), "Client", "idempotency-key-reused", True, None),
    (HostileDocument("DOCTYPE"), "Client", "hostile-document", True, None),
    (InvalidInput("accounts must differ"), "Client", "invalid-input", True, None),
    (NotFound("no transfer with MsgId 'X'"), "Client", "not-found", True, None),
    (Conflict("clashes"), "Client", "conflict", True, None),
    (InProgress("still running"), "Server", "in-progress", False, str(IN_PROGRESS_RETRY_AFTER)),
    (UpstreamUnavailable("corebank", "HTTP 500", 5), "Server", "upstream-unavailable", False, "5"),
    (UpstreamRejected("corebank", "refused"), "Server", "upstream-rejected", False, None),
    (SpyneFault("Client.SchemaValidationError", "bad"), "Client", "invalid-input", True, None),
    (ConfigurationError("bad mapping"), "Server", "internal-error", False, None),
    (RuntimeError("boom"), "Server", "internal-error", False, None),
]


@pytest.mark.parametrize(
    ("error", "code", "kind", "validation", "retry_after"),
    TABLE,
    ids=[type(row[0]).__name__ for row in TABLE],
)
def test_error_becomes_its_fault(
    error: BaseException, code: str, kind: str, validation: bool, retry_after: str | None
) -> None:
    fault = read_fault(fault_envelope(soap_fault(error, CID)))
    assert (fault.code, fault.kind, fault.reason is not None, fault.retry_after) == (
        code,
        kind,
        validation,
        retry_after,
    )
    assert fault.correlation_id == CID


def test_server_fault_says_nothing_of_the_error_but_the_correlation_id() -> None:
    body = fault_envelope(soap_fault(RuntimeError("password=hunter2 at db.internal"), CID))
    fault = read_fault(body)
    assert fault.text == f"internal error (correlation id {CID})"
    assert b"hunter2" not in body
    assert b"RuntimeError" not in body


def test_upstream_trouble_names_no_upstream_system() -> None:
    body = fault_envelope(soap_fault(UpstreamUnavailable("corebank", "PostPayment: HTTP 500"), CID))
    assert b"corebank" not in body
    assert b"PostPayment" not in body


def test_mapping_error_names_the_field_and_says_what_was_expected() -> None:
    error = MappingError("TransferFunds/Amt", "at most 2 decimals for EUR", "100.005")
    fault = read_fault(fault_envelope(soap_fault(error, CID)))
    assert fault.field == "TransferFunds/Amt"
    assert fault.reason == "expected at most 2 decimals for EUR, got '100.005'"


def test_field_given_by_the_caller_is_used_for_errors_without_one() -> None:
    fault = soap_fault(KeyReused("MsgId 'A' was already used"), CID, field="TransferFunds/MsgId")
    assert fault.field == "TransferFunds/MsgId"


def test_validation_fault_fits_the_contract_even_for_long_or_odd_input() -> None:
    error = InvalidField("TransferFunds/" + "X" * 300, "bad \x00 value \x1b " + "y" * 500)
    body = fault_envelope(soap_fault(error, CID))
    detail = etree.fromstring(body).find(".//detail")
    assert detail is not None
    validation = detail.find(f"{{{BANKING}}}ValidationFault")
    assert contract_schema("banking").validate(validation), contract_schema("banking").error_log


def test_client_faults_are_not_logged_by_spyne_but_server_faults_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_client_faults()
    logger = logging.getLogger("spyne.application.client")
    with caplog.at_level(logging.DEBUG):
        logger.error(SpyneFault("Client", "refused"))
        logging.getLogger("spyne.server.wsgi").error(soap_fault(InvalidInput("bad"), CID))
        logging.getLogger("spyne.server.wsgi").error(soap_fault(RuntimeError("x"), CID))
    assert [record.levelname for record in caplog.records] == ["ERROR"]
    assert "internal error" in caplog.records[0].getMessage()
