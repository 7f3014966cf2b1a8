"""What the sync jobs deliver, one module per upstream: each deliverer turns claimed outbox rows
into its upstream's messages and the upstream's answers into the rows' outcomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from bridge.domain.errors import MappingError
from bridge.mapping import canonical_json
from bridge.sync.engine import Dead, Outcome
from bridge.sync.outbox import OutboxRow

M = TypeVar("M")


def payload_of(row: OutboxRow, model: type[M]) -> M | Dead:
    """The canonical message `row` carries; a row that no longer reads as `model` (its model
    changed since it was queued) is a dead letter, saying why."""
    try:
        return canonical_json.loads(model, row.payload)
    except MappingError as exc:
        return Dead(f"mapping: {exc.detail}")


def read_rows(
    rows: Sequence[OutboxRow], model: type[M], key: Callable[[M], str]
) -> tuple[dict[int, Outcome], list[M], dict[str, int]]:
    """A claimed batch read for sending: the outcomes decided already (the rows that no longer
    read, dead letters), the messages in row order, and each message's row id by its `key`
    (the row's key in the outbox, unique within a topic)."""
    outcomes: dict[int, Outcome] = {}
    messages: list[M] = []
    rows_by_key: dict[str, int] = {}
    for row in rows:
        message = payload_of(row, model)
        if isinstance(message, Dead):
            outcomes[row.id] = message
            continue
        messages.append(message)
        rows_by_key[key(message)] = row.id
    return outcomes, messages, rows_by_key
