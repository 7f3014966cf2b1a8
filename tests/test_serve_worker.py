"""What a `bridge serve` worker does once its app is built (bridge.serve.BridgeServer.load):
the start-up objects are frozen out of the cyclic collector's walks, so a full collection
under load no longer stops the worker for the time it takes to walk the whole app."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.serve import BridgeServer
from bridge.settings import load_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session collects as before


def test_a_worker_freezes_what_it_built_and_a_full_collection_skips_it(
    tmp_path: Path, unfrozen: None
) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}", simulators=False, scheduler=False
    )
    app = BridgeServer(settings).load()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 50_000  # the app's contracts, mappings, clients
        tracked = len(gc.get_objects())  # what a full collection walks: not the frozen ones
        assert tracked < frozen / 5
    finally:
        app.close()
