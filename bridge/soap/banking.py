"""The banking contract (wsdl/banking.wsdl) as spyne sees it: models, operations, the service.

The models mirror the contract's schema type for type (names, facets, occurrences, no
``nillable``) so that spyne dispatches on the contract's elements and its generated interface
document can be compared with the checked-in one (tests/soap/test_contract_drift.py). They are
never used to read or write a message: `bridge.soap.protocol` hands the methods canonical objects
read by the compiled mappings and writes their answers the same way, because spyne's own
(de)serialisation is its slow path and the mapping layer is the bridge's one translation.

A method receives the canonical request (`bridge.domain`) and returns the canonical answer; what
it raises is turned into a SOAP fault in exactly one place, `bridge.soap.faults.soap_fault`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

from spyne import Boolean, Date, DateTime, Decimal, Integer32, XmlAttribute, XmlData

from bridge.domain import (
    AccountVerification,
    AccountVerificationRequest,
    TransactionPage,
    TransactionsQuery,
    TransferRequest,
    TransferResult,
    TransferStatusQuery,
)
from bridge.security.access import PRINCIPAL_KEY, allow
from bridge.security.clients import TIERS
from bridge.security.links import AccountLinks
from bridge.services.banking import BankingService
from bridge.soap.models import ContractTypes
from bridge.soap.operations import Contract, OperationsOf
from bridge.soap.service import (
    DoorConfig,
    DoorService,
    client_id,
    config,
    correlation,
    environ,
)

NAMESPACE = "urn:bridge:banking:v1"
DOOR = "soap"

types = ContractTypes(NAMESPACE)
one, optional, up_to, either = types.one, types.optional, types.up_to, types.either


# -- simple types ----------------------------------------------------------------------------

Max34Text = types.text("Max34Text", 34)
Max35Text = types.text("Max35Text", 35)
# The MsgId: printable, no control or format characters, no space at either end.
MessageIdentification = types.text(
    "MessageIdentification",
    35,
    r"[^\p{Z}\p{Cc}\p{Cf}]([^\p{Zl}\p{Zp}\p{Cc}\p{Cf}]*[^\p{Z}\p{Cc}\p{Cf}])?",
)
Max70Text = types.text("Max70Text", 70)
Max105Text = types.text("Max105Text", 105)
Max140Text = types.text("Max140Text", 140)
Max350Text = types.text("Max350Text", 350)
IBAN2007Identifier = types.pattern("IBAN2007Identifier", "[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
BICFIDec2014Identifier = types.pattern(
    "BICFIDec2014Identifier", "[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?"
)
ActiveOrHistoricCurrencyCode = types.pattern("ActiveOrHistoricCurrencyCode", "[A-Z]{3}")
AmountValue = types.named(
    Decimal,
    "ActiveOrHistoricCurrencyAndAmount_SimpleType",
    total_digits=18,
    fraction_digits=3,
    ge=D("0.001"),
)
ChargeBearerCode = types.codes("ChargeBearerCode", "DEBT", "CRED", "SHAR")
TransferStatusCode = types.codes("TransferStatusCode", "ACCP", "ACSC", "PDNG", "RJCT")
StatusReasonCode = types.pattern("StatusReasonCode", "[A-Z0-9]{4}")
VerificationResultCode = types.codes("VerificationResultCode", "MTCH", "CMTC", "NMTC", "NOAP")
AccountStatusCode = types.codes("AccountStatusCode", "ACTV", "CLSD", "BLCK")
CreditDebitCode = types.codes("CreditDebitCode", "CRDT", "DBIT")
PageNumber = types.named(Integer32, "PageNumber", ge=1)
PageSize = types.named(Integer32, "PageSize", ge=1, le=500)


# -- complex types ---------------------------------------------------------------------------

ActiveOrHistoricCurrencyAndAmount = types.complex(
    "ActiveOrHistoricCurrencyAndAmount",
    [
        ("value", XmlData(AmountValue)),
        ("Ccy", XmlAttribute(ActiveOrHistoricCurrencyCode, "required")),
    ],
)
GenericAccountIdentification = types.complex(
    "GenericAccountIdentification", [("Id", one(Max34Text))]
)
AccountIdentification = types.complex(
    "AccountIdentification",
    [
        ("IBAN", either(IBAN2007Identifier, "account")),
        ("Othr", either(GenericAccountIdentification, "account")),
    ],
)
FinancialInstitutionIdentification = types.complex(
    "FinancialInstitutionIdentification", [("BICFI", one(BICFIDec2014Identifier))]
)
Party = types.complex(
    "Party",
    [
        ("Nm", one(Max70Text)),
        ("Acct", one(AccountIdentification)),
        ("Agt", optional(FinancialInstitutionIdentification)),
    ],
)
RemittanceInformation = types.complex("RemittanceInformation", [("Ustrd", one(Max140Text))])
StatusReason = types.complex(
    "StatusReason", [("Cd", one(StatusReasonCode)), ("AddtlInf", optional(Max105Text))]
)
Transaction = types.complex(
    "Transaction",
    [
        ("TxId", one(Max35Text)),
        ("BookgDt", one(Date)),
        ("Amt", one(ActiveOrHistoricCurrencyAndAmount)),
        ("CdtDbtInd", one(CreditDebitCode)),
        ("Nm", one(Max70Text)),
        ("RmtInf", optional(RemittanceInformation)),
    ],
)
TransferRequestType = types.complex(
    "TransferRequest",
    [
        ("MsgId", one(MessageIdentification)),
        ("CreDtTm", one(DateTime)),
        ("ReqdExctnDt", optional(Date)),
        ("Amt", one(ActiveOrHistoricCurrencyAndAmount)),
        ("Dbtr", one(Party)),
        ("Cdtr", one(Party)),
        ("RmtInf", optional(RemittanceInformation)),
        ("ChrgBr", optional(ChargeBearerCode)),
    ],
)
TransferResponseType = types.complex(
    "TransferResponse",
    [
        ("TxId", one(Max35Text)),
        ("MsgId", one(MessageIdentification)),
        ("Sts", one(TransferStatusCode)),
        ("StsRsn", optional(StatusReason)),
        ("BookgDt", optional(Date)),
    ],
)
AccountVerificationRequestType = types.complex(
    "AccountVerificationRequest", [("Acct", one(AccountIdentification)), ("Nm", one(Max70Text))]
)
AccountVerificationResponseType = types.complex(
    "AccountVerificationResponse",
    [
        ("Rslt", one(VerificationResultCode)),
        ("SggstdNm", optional(Max70Text)),
        ("AcctSts", optional(AccountStatusCode)),
    ],
)
TransferStatusRequestType = types.complex(
    "TransferStatusRequest",
    [
        ("MsgId", either(MessageIdentification, "reference")),
        ("TxId", either(Max35Text, "reference")),
    ],
)
TransactionsRequestType = types.complex(
    "TransactionsRequest",
    [
        ("Acct", one(AccountIdentification)),
        ("FrDt", one(Date)),
        ("ToDt", one(Date)),
        ("PgNb", one(PageNumber)),
        ("PgSz", one(PageSize)),
    ],
)
TransactionsResponseType = types.complex(
    "TransactionsResponse", [("Tx", up_to(Transaction, 500)), ("MoreData", one(Boolean))]
)
ValidationFault = types.fault(
    "ValidationFault", [("Field", optional(Max140Text)), ("Reason", one(Max350Text))]
)


# -- operations ------------------------------------------------------------------------------


# Who may call: partner banks (partner tier) and our own systems (private).
PARTNERS = ("partner", "private")
operation = OperationsOf("banking", NAMESPACE)
OPERATIONS = (
    operation(
        "TransferFunds",
        "transfer_request",
        "transfer_response",
        idempotency_key="msg_id",
        access=allow("transfers:write", PARTNERS),
    ),
    operation(
        "VerifyAccount",
        "account_verification_request",
        "account_verification_response",
        access=allow("accounts:read", TIERS),
    ),
    operation(
        "GetTransferStatus",
        "transfer_status_request",
        "transfer_status_response",
        access=allow("transfers:read", PARTNERS),
    ),
    operation(
        "GetTransactions",
        "transactions_request",
        "transactions_response",
        subject="account",
        # Statements are their holders' (bridge.security.links): not for public clients.
        access=allow("accounts:read", PARTNERS),
    ),
)


@dataclass(frozen=True, slots=True)
class BankingDoor(DoorConfig):
    """What the banking methods call."""

    banking: BankingService
    links: AccountLinks  # whose statements a caller may read


def _banking(ctx: Any) -> BankingService:
    return config(ctx, BankingDoor).banking


class BankingSoapService(DoorService):
    """The four operations of wsdl/banking.wsdl, each a call of `BankingService`."""

    __service_name__ = "BankingService"

    @types.operation(TransferRequestType, TransferResponseType)
    def TransferFunds(ctx: Any, request: TransferRequest) -> TransferResult:
        return _banking(ctx).transfer_funds(
            request, client_id=client_id(ctx), door=DOOR, correlation_id=correlation(ctx)
        )

    @types.operation(AccountVerificationRequestType, AccountVerificationResponseType)
    def VerifyAccount(ctx: Any, request: AccountVerificationRequest) -> AccountVerification:
        return _banking(ctx).verify_account(request, correlation_id=correlation(ctx))

    @types.operation(TransferStatusRequestType, TransferResponseType)
    def GetTransferStatus(ctx: Any, request: TransferStatusQuery) -> TransferResult:
        return _banking(ctx).transfer_status(
            request, client_id=client_id(ctx), correlation_id=correlation(ctx)
        )

    @types.operation(TransactionsRequestType, TransactionsResponseType)
    def GetTransactions(ctx: Any, request: TransactionsQuery) -> TransactionPage:
        door = config(ctx, BankingDoor)
        return door.banking.transactions(
            request,
            may_read=door.links.reader(environ(ctx).get(PRINCIPAL_KEY)),
            correlation_id=correlation(ctx),
        )


CONTRACT = Contract(
    name="banking",
    namespace=NAMESPACE,
    service_name="BankingService",
    service=BankingSoapService,
    operations=OPERATIONS,
    # spyne 2.14 declares the base type of a simpleContent extension (an XmlData field) nowhere
    # in its schema; registering it as a dependency makes the generated document complete.
    dependencies=(AmountValue,),
)
