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

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any, cast

from spyne import (
    Boolean,
    ComplexModel,
    Date,
    DateTime,
    Decimal,
    Fault,
    Integer32,
    ServiceBase,
    Unicode,
    XmlAttribute,
    XmlData,
    rpc,
)

from bridge.domain import (
    AccountVerification,
    AccountVerificationRequest,
    TransactionPage,
    TransactionsQuery,
    TransferRequest,
    TransferResult,
    TransferStatusQuery,
)
from bridge.observability.correlation import correlation_id
from bridge.services.banking import BankingService
from bridge.soap.faults import soap_fault
from bridge.soap.operations import Operation

NAMESPACE = "urn:bridge:banking:v1"
DOOR = "soap"
# Set by the authentication middleware once it exists; until then every caller is anonymous.
CLIENT_ID_KEY = "bridge.client_id"
ANONYMOUS = "anonymous"


# -- simple types ----------------------------------------------------------------------------
# spyne renames a named simple type when it is customised again (e.g. for minOccurs), so every
# customisation below repeats the type's name and namespace.


def _named(kind: Any, name: str, **facets: Any) -> Any:
    return kind.customize(type_name=name, __namespace__=NAMESPACE, nillable=False, **facets)


def _text(name: str, max_len: int) -> Any:
    return _named(Unicode, name, min_len=1, max_len=max_len)


def _pattern(name: str, pattern: str) -> Any:
    return _named(Unicode, name, pattern=pattern)


def _codes(name: str, *values: str) -> Any:
    return _named(Unicode, name, values=list(values))


Max34Text = _text("Max34Text", 34)
Max35Text = _text("Max35Text", 35)
Max70Text = _text("Max70Text", 70)
Max105Text = _text("Max105Text", 105)
Max140Text = _text("Max140Text", 140)
Max350Text = _text("Max350Text", 350)
IBAN2007Identifier = _pattern("IBAN2007Identifier", "[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
BICFIDec2014Identifier = _pattern(
    "BICFIDec2014Identifier", "[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?"
)
ActiveOrHistoricCurrencyCode = _pattern("ActiveOrHistoricCurrencyCode", "[A-Z]{3}")
AmountValue = _named(
    Decimal,
    "ActiveOrHistoricCurrencyAndAmount_SimpleType",
    total_digits=18,
    fraction_digits=3,
    ge=D("0.001"),
)
ChargeBearerCode = _codes("ChargeBearerCode", "DEBT", "CRED", "SHAR")
TransferStatusCode = _codes("TransferStatusCode", "ACCP", "ACSC", "PDNG", "RJCT")
StatusReasonCode = _pattern("StatusReasonCode", "[A-Z0-9]{4}")
VerificationResultCode = _codes("VerificationResultCode", "MTCH", "CMTC", "NMTC", "NOAP")
AccountStatusCode = _codes("AccountStatusCode", "ACTV", "CLSD", "BLCK")
CreditDebitCode = _codes("CreditDebitCode", "CRDT", "DBIT")
PageNumber = _named(Integer32, "PageNumber", ge=1)
PageSize = _named(Integer32, "PageSize", ge=1, le=500)


# -- occurrences -----------------------------------------------------------------------------


def _occurs(kind: Any, min_occurs: int, max_occurs: int = 1, **more: Any) -> Any:
    names = {}
    if kind.get_namespace() == NAMESPACE:  # keep a named type's name (see above)
        names = {"type_name": kind.get_type_name(), "__namespace__": NAMESPACE}
    return kind.customize(
        min_occurs=min_occurs, max_occurs=max_occurs, nillable=False, **names, **more
    )


def one(kind: Any) -> Any:
    return _occurs(kind, 1)


def optional(kind: Any) -> Any:
    return _occurs(kind, 0)


def up_to(kind: Any, max_occurs: int) -> Any:
    return _occurs(kind, 0, max_occurs)


def either(kind: Any, group: str) -> Any:
    """One branch of an ``xs:choice`` (spyne puts the members of a group in one choice)."""
    return _occurs(kind, 1, xml_choice_group=group)


def _complex(name: str, fields: list[tuple[str, Any]]) -> Any:
    """A complexType named as in the contract, fields in its ``xs:sequence`` order."""
    return ComplexModel.produce(NAMESPACE, name, fields)


# -- complex types ---------------------------------------------------------------------------

ActiveOrHistoricCurrencyAndAmount = _complex(
    "ActiveOrHistoricCurrencyAndAmount",
    [
        ("value", XmlData(AmountValue)),
        ("Ccy", XmlAttribute(ActiveOrHistoricCurrencyCode, "required")),
    ],
)
GenericAccountIdentification = _complex("GenericAccountIdentification", [("Id", one(Max34Text))])
AccountIdentification = _complex(
    "AccountIdentification",
    [
        ("IBAN", either(IBAN2007Identifier, "account")),
        ("Othr", either(GenericAccountIdentification, "account")),
    ],
)
FinancialInstitutionIdentification = _complex(
    "FinancialInstitutionIdentification", [("BICFI", one(BICFIDec2014Identifier))]
)
Party = _complex(
    "Party",
    [
        ("Nm", one(Max70Text)),
        ("Acct", one(AccountIdentification)),
        ("Agt", optional(FinancialInstitutionIdentification)),
    ],
)
RemittanceInformation = _complex("RemittanceInformation", [("Ustrd", one(Max140Text))])
StatusReason = _complex(
    "StatusReason", [("Cd", one(StatusReasonCode)), ("AddtlInf", optional(Max105Text))]
)
Transaction = _complex(
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
TransferRequestType = _complex(
    "TransferRequest",
    [
        ("MsgId", one(Max35Text)),
        ("CreDtTm", one(DateTime)),
        ("ReqdExctnDt", optional(Date)),
        ("Amt", one(ActiveOrHistoricCurrencyAndAmount)),
        ("Dbtr", one(Party)),
        ("Cdtr", one(Party)),
        ("RmtInf", optional(RemittanceInformation)),
        ("ChrgBr", optional(ChargeBearerCode)),
    ],
)
TransferResponseType = _complex(
    "TransferResponse",
    [
        ("TxId", one(Max35Text)),
        ("MsgId", one(Max35Text)),
        ("Sts", one(TransferStatusCode)),
        ("StsRsn", optional(StatusReason)),
        ("BookgDt", optional(Date)),
    ],
)
AccountVerificationRequestType = _complex(
    "AccountVerificationRequest", [("Acct", one(AccountIdentification)), ("Nm", one(Max70Text))]
)
AccountVerificationResponseType = _complex(
    "AccountVerificationResponse",
    [
        ("Rslt", one(VerificationResultCode)),
        ("SggstdNm", optional(Max70Text)),
        ("AcctSts", optional(AccountStatusCode)),
    ],
)
TransferStatusRequestType = _complex(
    "TransferStatusRequest",
    [("MsgId", either(Max35Text, "reference")), ("TxId", either(Max35Text, "reference"))],
)
TransactionsRequestType = _complex(
    "TransactionsRequest",
    [
        ("Acct", one(AccountIdentification)),
        ("FrDt", one(Date)),
        ("ToDt", one(Date)),
        ("PgNb", one(PageNumber)),
        ("PgSz", one(PageSize)),
    ],
)
TransactionsResponseType = _complex(
    "TransactionsResponse", [("Tx", up_to(Transaction, 500)), ("MoreData", one(Boolean))]
)
ValidationFault = _complex(
    "ValidationFault", [("Field", optional(Max140Text)), ("Reason", one(Max350Text))]
)


# -- operations ------------------------------------------------------------------------------


OPERATIONS = (
    Operation(
        NAMESPACE,
        "TransferFunds",
        "banking/transfer_request",
        "banking/transfer_response",
        idempotency_key="msg_id",
    ),
    Operation(
        NAMESPACE,
        "VerifyAccount",
        "banking/account_verification_request",
        "banking/account_verification_response",
    ),
    Operation(
        NAMESPACE,
        "GetTransferStatus",
        "banking/transfer_status_request",
        "banking/transfer_status_response",
    ),
    Operation(
        NAMESPACE,
        "GetTransactions",
        "banking/transactions_request",
        "banking/transactions_response",
    ),
)


@dataclass(frozen=True, slots=True)
class Door:
    """What the service methods need from the bridge; spyne hands it to them as ``ctx.app.config``.

    `field_of` names the contract element an error is about (see `bridge.soap.paths`)."""

    banking: BankingService
    field_of: Callable[[str, BaseException], str | None]


def _operation(request: Any, response: Any, name: str) -> Callable[[Callable[..., Any]], Any]:
    """spyne's ``@rpc`` for a document/literal operation whose body *is* the element (bare)."""
    decorator = rpc(
        one(request),
        _returns=response,
        _body_style="bare",
        _in_message_name=name,
        _out_message_name=f"{name}Response",
        _throws=[ValidationFault],
    )
    return cast(Callable[[Callable[..., Any]], Any], decorator)


def _door(ctx: Any) -> Door:
    door: Door = ctx.app.config
    return door


def _environ(ctx: Any) -> dict[str, Any]:
    environ: dict[str, Any] = ctx.transport.req_env
    return environ


def _client_id(ctx: Any) -> str:
    client: str = _environ(ctx).get(CLIENT_ID_KEY, ANONYMOUS)
    return client


def _correlation(ctx: Any) -> str:
    return correlation_id(_environ(ctx))


class BankingSoapService(ServiceBase):  # type: ignore[misc]
    """The four operations of wsdl/banking.wsdl, each a call of `BankingService`."""

    __service_name__ = "BankingService"

    @classmethod
    def call_wrapper(cls, ctx: Any, args: Any = None) -> Any:
        """Every error of a method leaves as the one SOAP fault `soap_fault` makes of it."""
        try:
            return super().call_wrapper(ctx, args)
        except Fault:
            raise
        except Exception as exc:
            operation = ctx.descriptor.operation_name
            field = _door(ctx).field_of(operation, exc)
            raise soap_fault(exc, _correlation(ctx), field=field) from exc

    @_operation(TransferRequestType, TransferResponseType, "TransferFunds")
    def TransferFunds(ctx: Any, request: TransferRequest) -> TransferResult:
        return _door(ctx).banking.transfer_funds(
            request, client_id=_client_id(ctx), door=DOOR, correlation_id=_correlation(ctx)
        )

    @_operation(AccountVerificationRequestType, AccountVerificationResponseType, "VerifyAccount")
    def VerifyAccount(ctx: Any, request: AccountVerificationRequest) -> AccountVerification:
        return _door(ctx).banking.verify_account(request, correlation_id=_correlation(ctx))

    @_operation(TransferStatusRequestType, TransferResponseType, "GetTransferStatus")
    def GetTransferStatus(ctx: Any, request: TransferStatusQuery) -> TransferResult:
        return _door(ctx).banking.transfer_status(
            request, client_id=_client_id(ctx), correlation_id=_correlation(ctx)
        )

    @_operation(TransactionsRequestType, TransactionsResponseType, "GetTransactions")
    def GetTransactions(ctx: Any, request: TransactionsQuery) -> TransactionPage:
        return _door(ctx).banking.transactions(request, correlation_id=_correlation(ctx))
