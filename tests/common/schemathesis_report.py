"""How a schemathesis finding is told in a failing test: the check, the request that found it
and the answer it got (tests/rest/test_schemathesis.py, tests/services_byo/test_proof.py)."""

from __future__ import annotations

from typing import Any


def describe(check: Any, recorder: Any, case_id: str) -> str:
    info = check.failure_info
    if info is None:
        return str(check.status)
    interaction = recorder.interactions.get(case_id)
    answer = ""
    if interaction is not None and interaction.response is not None:
        answer = f" [{interaction.response.status_code}: {interaction.response.content[:300]!r}]"
    return f"{info.failure.title}: {info.failure.message[:300]} -- {info.code_sample[:600]}{answer}"


def error(event: Any) -> str:
    info = getattr(event, "info", None)
    if info is not None:
        return f"{info.title}: {info.message[:600]}"
    return repr(getattr(event, "exception", event))[:600]
