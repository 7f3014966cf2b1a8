"""The one mapping layer: declarative specs under `mappings/`, compiled once with lxml.

No framework of the edges is imported here (no Flask, spyne, zeep or SQLAlchemy); a test checks.
"""

from bridge.mapping.compiler import CompiledMapping
from bridge.mapping.registry import Mappings

__all__ = ["CompiledMapping", "Mappings"]
