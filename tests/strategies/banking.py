"""Canonical banking messages that fit wsdl/banking.wsdl."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bridge.domain import ChargeBearer, Party, TransferRequest
from tests.strategies.common import ACCOUNTS, BICS, DATES, DATETIMES, money, names, xml_text

MSG_IDS = xml_text(1, 35)

PARTIES = st.builds(Party, name=names(70), account=ACCOUNTS, bic=st.none() | BICS)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    TransferRequest: st.builds(
        TransferRequest,
        msg_id=MSG_IDS,
        created_at=DATETIMES,
        requested_execution_date=st.none() | DATES,
        amount=money(),
        debtor=PARTIES,
        creditor=PARTIES,
        remittance_info=st.none() | xml_text(1, 140),
        charge_bearer=st.none() | st.sampled_from(ChargeBearer),
    ),
}
