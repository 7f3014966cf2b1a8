"""Strategies per canonical class, collected from one module per contract.

`STRATEGIES[cls]` generates canonical messages of `cls` that fit the contract's schema; the
round-trip property test runs every mapping spec with the strategy of its model.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from hypothesis import strategies as st

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {}

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "common":
        STRATEGIES.update(importlib.import_module(f"{__name__}.{_module.name}").STRATEGIES)
