"""Strategies per canonical class, one module per contract (the module is named after it).

`strategy_for(contract, cls)` generates canonical messages of `cls` that fit that contract's
schema: the contract's own strategy first (classes shared by vocabularies, such as
`TransactionsQuery`, may need narrower values in one of them), else any contract's.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from hypothesis import strategies as st

BY_CONTRACT: dict[str, dict[type, st.SearchStrategy[Any]]] = {
    module.name: importlib.import_module(f"{__name__}.{module.name}").STRATEGIES
    for module in pkgutil.iter_modules(__path__)
    if module.name not in ("common", "xsd")  # shared values; strategies from any XSD
}


def strategy_for(contract: str, cls: type) -> st.SearchStrategy[Any] | None:
    own = BY_CONTRACT.get(contract, {})
    if cls in own:
        return own[cls]
    return next((s[cls] for s in BY_CONTRACT.values() if cls in s), None)
