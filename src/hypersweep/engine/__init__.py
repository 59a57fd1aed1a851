"""The sweep loop: ask a strategy, submit to an executor, record in the store, tell the strategy.

``Engine`` runs the loop; its seams are ``_policy`` (when a run ends: pure functions), ``_launcher``
(which trials start next, by the strategy's traits), ``_writer`` (buffered, retried store writes and
the lease) and ``EnvironmentCache`` (the environments one run's workers reported).
"""

from __future__ import annotations

from hypersweep.engine._engine import (
    Engine,
    EngineOptions,
    EngineStore,
    Progress,
    RunSummary,
    build_payload,
    outcome_from_result,
)
from hypersweep.engine._environments import EnvironmentCache
from hypersweep.engine._launcher import queue_ahead
from hypersweep.engine._policy import StopReason, end_status
from hypersweep.engine._writer import STORE_RETRY_S

__all__ = [
    "STORE_RETRY_S",
    "Engine",
    "EngineOptions",
    "EngineStore",
    "EnvironmentCache",
    "Progress",
    "RunSummary",
    "StopReason",
    "build_payload",
    "end_status",
    "outcome_from_result",
    "queue_ahead",
]
