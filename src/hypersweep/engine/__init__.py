"""The sweep loop: ask a strategy, submit to an executor, record in the store, tell the strategy."""

from __future__ import annotations

from hypersweep.engine._engine import (
    ENVIRONMENT_CACHE,
    STORE_RETRY_S,
    Engine,
    EngineOptions,
    Progress,
    RunSummary,
    StopReason,
    build_payload,
    outcome_from_result,
)

__all__ = [
    "ENVIRONMENT_CACHE",
    "STORE_RETRY_S",
    "Engine",
    "EngineOptions",
    "Progress",
    "RunSummary",
    "StopReason",
    "build_payload",
    "outcome_from_result",
]
