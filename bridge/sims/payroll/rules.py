"""Whether payroll accepts one employee record: the checks, first failure wins.

1. HIRE of an employee who is already ACTIVE -> ALREADY_EMPLOYED;
   CHANGE or TERMINATE of one who is unknown or terminated -> UNKNOWN_EMPLOYEE;
   a TERMINATE that passes is accepted without further checks;
2. BankAccount failing the IBAN check digits (ISO 13616 mod 97) -> INVALID_IBAN;
3. WeeklyHours above `max_weekly_hours` (48) -> HOURS_ABOVE_MAXIMUM;
4. a salary currency without a minimum wage in the rules -> UNSUPPORTED_CURRENCY;
5. a salary amount with more decimals than the currency has (JPY 0, EUR 2, BHD 3) ->
   AMOUNT_PRECISION;
6. pay per hour below the currency's minimum (MONTHLY x 12 / 52 / hours, ANNUAL / 52 / hours;
   not checked for a salaried record with 0 hours) -> BELOW_MINIMUM_WAGE.

Rules and tables are in `data/payroll_rules.yaml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.domain.iban import iban_valid
from bridge.sims.context import Wire

ACTIVE, TERMINATED = "ACTIVE", "TERMINATED"
WEEKS_A_YEAR = Decimal(52)


@dataclass(frozen=True)
class PayrollRules:
    max_weekly_hours: Decimal
    minimum_hourly: Mapping[str, Decimal]
    minor_units: Mapping[str, int]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PayrollRules:
        return cls(
            max_weekly_hours=Decimal(str(data["max_weekly_hours"])),
            minimum_hourly={str(k): Decimal(str(v)) for k, v in data["minimum_hourly"].items()},
            minor_units={str(k): int(v) for k, v in data["minor_units"].items()},
        )


def refusal(record: Wire, status: str | None, rules: PayrollRules) -> tuple[str, str] | None:
    """(ReasonCode, ReasonText) when the record is refused; None when it is accepted.
    `status` is the employee's current status, None when payroll does not know them."""
    action, number = record["Action"], record["EmployeeNo"]
    if action == "HIRE" and status == ACTIVE:
        return "ALREADY_EMPLOYED", f"Employee {number} is already employed"
    if action in ("CHANGE", "TERMINATE") and status != ACTIVE:
        return "UNKNOWN_EMPLOYEE", f"No active employee {number}"
    if action == "TERMINATE":
        return None
    if not iban_valid(record["BankAccount"]):
        return "INVALID_IBAN", "The bank account fails the IBAN check digits"
    hours = Decimal(record["WeeklyHours"])
    if hours > rules.max_weekly_hours:
        return (
            "HOURS_ABOVE_MAXIMUM",
            f"{hours} weekly hours exceed the maximum of {rules.max_weekly_hours}",
        )
    salary = record["Salary"]
    currency, amount = salary["Currency"], Decimal(salary["Amount"])
    minimum = rules.minimum_hourly.get(currency)
    units = rules.minor_units.get(currency)
    if minimum is None or units is None:
        return "UNSUPPORTED_CURRENCY", f"Payroll does not pay salaries in {currency}"
    if amount != amount.quantize(Decimal(1).scaleb(-units)):
        return "AMOUNT_PRECISION", f"{currency} amounts have at most {units} decimals"
    hourly = _hourly(amount, salary["Period"], hours)
    if hourly is not None and hourly < minimum:
        return (
            "BELOW_MINIMUM_WAGE",
            f"{hourly:.2f} {currency} an hour is below the minimum of {minimum} {currency}",
        )
    return None


def _hourly(amount: Decimal, period: str, hours: Decimal) -> Decimal | None:
    if period == "HOURLY":
        return amount
    if hours == 0:
        return None
    yearly = amount * 12 if period == "MONTHLY" else amount
    return yearly / WEEKS_A_YEAR / hours
