"""Request builders for the simulator tests: a valid message, with the fields a test changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

# Seeded accounts (bridge/sims/data/corebank_accounts.yaml).
BAKERY = "DE89370400440532013000"  # EUR 25,000.00, Bäckerei Müller & Söhne GmbH
GROSSMANN = "DE12500105170648489890"  # EUR 12,500.00, Jürgen Großmann
THU_HA = "DE41500105170123456789"  # EUR 25.00, Nguyễn Thị Thu Hà
CLOSED_DUC = "DE75500105179876543210"  # EUR, CLOSED, Trần Văn Đức
YAMADA = "123456"  # JPY 3,000,000, 山田 太郎
SAKURA = "98765432109876543210"  # JPY 75,000,000, 株式会社さくら商事
BLOCKED_HANAKO = "5550001112"  # JPY, BLOCKED, 山田 花子
SCHAEFER_BHD = "004512345678"  # BHD 8,000.000
HOANG_BHD = "BH67BMAG00001299123456"  # BHD 1,250.750, Hoàng Thị Mai
AN_VND = "0071000123456"  # VND 150,000,000, Nguyễn Văn An


def payment(external_ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "debitAccountNo": BAKERY,
        "creditAccountNo": GROSSMANN,
        "amountMinor": 12_345,
        "currencyCode": "EUR",
        "valueDate": date(2025, 6, 2),
        "narrative": "Lohn Juni, Vorschuss für Đức",
        "externalRef": external_ref,
        **fields,
    }


def employee(record_id: str, employee_no: str = "E1001", **fields: Any) -> dict[str, Any]:
    return {
        "RecordId": record_id,
        "EmployeeNo": employee_no,
        "GivenName": "Jürgen",
        "FamilyName": "Großmann",
        "Salary": {"Amount": "5250.00", "Currency": "EUR", "Period": "MONTHLY"},
        "WeeklyHours": "38.5",
        "BankAccount": "DE89370400440532013000",
        "EffectiveDate": date(2025, 7, 1),
        "Action": "HIRE",
        **fields,
    }


def batch(batch_id: str, *records: dict[str, Any]) -> dict[str, Any]:
    return {
        "BatchId": batch_id,
        "SubmittedAt": datetime(2025, 6, 2, 9, 15, tzinfo=UTC),
        "Record": list(records),
    }


def shipment(order_ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "OrderRef": order_ref,
        "ShipmentRef": f"SHP-{order_ref}",
        "ServiceLevel": "STANDARD",
        "Consignee": {"Name": "Trần Thị Bích Ngọc", "Phone": "+84912345678"},
        "Address": {
            "Street": "Straße des 17. Juni 135",
            "PostCode": "10623",
            "City": "Berlin",
            "CountryCode": "DE",
        },
        "Parcel": [{"WeightGrams": 1250, "LengthCm": 40, "WidthCm": 30, "HeightCm": 20}],
        **fields,
    }


def document(document_id: str, text: str, kind: str = "MESSAGE", **fields: Any) -> dict[str, Any]:
    return {"DocumentId": document_id, "Text": text, "Kind": kind, **fields}
