"""The canonical model: plain typed objects for every message the bridge handles.

Nothing here imports a framework of the edges (Flask, spyne, zeep, SQLAlchemy); a test enforces it.
Mapping specs name these classes by their bare name (``model: TransferRequest``).
"""

from bridge.domain import banking, classification, common, corebank, payroll, shipping
from bridge.domain.banking import *  # noqa: F403
from bridge.domain.classification import *  # noqa: F403
from bridge.domain.common import *  # noqa: F403
from bridge.domain.corebank import *  # noqa: F403
from bridge.domain.payroll import *  # noqa: F403
from bridge.domain.shipping import *  # noqa: F403

__all__ = [
    *banking.__all__,
    *classification.__all__,
    *common.__all__,
    *corebank.__all__,
    *payroll.__all__,
    *shipping.__all__,
]
