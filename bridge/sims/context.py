"""What every simulator is built from: the engine, its public address, a clock, its data files
and the folder of the contracts it serves (`Settings.contracts_dir`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from bridge.domain.clock import Clock, utcnow
from bridge.mapping.schemas import CONTRACTS_ROOT

DATA = Path(__file__).parent / "data"

# Wire form of a message: JSON types only (dates as ISO strings, decimals as strings).
Wire = dict[str, Any]


@cache
def data_file(name: str) -> Any:
    """A YAML file under `bridge/sims/data/`, read once per process."""
    with (DATA / name).open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


@dataclass(frozen=True)
class SimContext:
    engine: Engine
    base_url: str
    clock: Clock = field(default=utcnow)
    # The contracts folder: the simulators serve and enforce <contracts_dir>/upstream/<name>.wsdl.
    contracts_dir: Path = CONTRACTS_ROOT

    def address(self, name: str) -> str:
        """The public address of one simulator, e.g. http://127.0.0.1:8080/sims/corebank."""
        return f"{self.base_url.rstrip('/')}/sims/{name}"
