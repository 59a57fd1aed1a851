"""hypersweep: hyperparameter sweeps from YAML on Ray, tracked in a shared SQL store.

Driver side: :func:`run_sweep`, :func:`resume_sweep`, :func:`stop_sweep`, :func:`leaderboard`,
:func:`studies`, :func:`trials`, :func:`load_spec`. Trial side: :func:`report`, :class:`Pruned`,
:func:`trial_seed`, :func:`current_trial`, :func:`log_artifact`, :func:`seed_everything`.
The driver-side names are imported lazily so a trial's ``import hypersweep`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypersweep.errors import (
    ArtifactIntegrityError,
    ExecutorError,
    FailureBudgetExceeded,
    HypersweepError,
    InsufficientResourcesError,
    Pruned,
    QueryError,
    ResumeConflictError,
    SchemaVersionError,
    SpecError,
    StoreError,
    StoreUnavailableError,
    StudyLockedError,
    SweepNotFoundError,
)
from hypersweep.records import Direction, StudyStatus, TrialState
from hypersweep.trial import current_trial, log_artifact, report, trial_seed
from hypersweep.trial._seed import seed_everything

if TYPE_CHECKING:
    from hypersweep.orchestrate import (
        ReproduceResult,
        RunResult,
        reproduce,
        resume_sweep,
        run_sweep,
        stop_sweep,
    )
    from hypersweep.query import leaderboard, studies, trials, write_report
    from hypersweep.spec import SweepSpec, load_spec
    from hypersweep.trial._artifacts import checkpoint, restore_checkpoint

__version__ = "0.1.0"

__all__ = [
    "ArtifactIntegrityError",
    "Direction",
    "ExecutorError",
    "FailureBudgetExceeded",
    "HypersweepError",
    "InsufficientResourcesError",
    "Pruned",
    "QueryError",
    "ResumeConflictError",
    "RunResult",
    "SchemaVersionError",
    "SpecError",
    "StoreError",
    "StoreUnavailableError",
    "StudyLockedError",
    "StudyStatus",
    "SweepNotFoundError",
    "SweepSpec",
    "TrialState",
    "__version__",
    "checkpoint",
    "current_trial",
    "leaderboard",
    "load_spec",
    "log_artifact",
    "report",
    "reproduce",
    "ReproduceResult",
    "restore_checkpoint",
    "resume_sweep",
    "run_sweep",
    "seed_everything",
    "stop_sweep",
    "studies",
    "trial_seed",
    "trials",
    "write_report",
]

_LAZY = {
    "run_sweep": "hypersweep.orchestrate",
    "resume_sweep": "hypersweep.orchestrate",
    "stop_sweep": "hypersweep.orchestrate",
    "RunResult": "hypersweep.orchestrate",
    "load_spec": "hypersweep.spec",
    "SweepSpec": "hypersweep.spec",
    "leaderboard": "hypersweep.query",
    "studies": "hypersweep.query",
    "trials": "hypersweep.query",
    "write_report": "hypersweep.query",
    "reproduce": "hypersweep.orchestrate",
    "checkpoint": "hypersweep.trial._artifacts",
    "restore_checkpoint": "hypersweep.trial._artifacts",
    "ReproduceResult": "hypersweep.orchestrate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hypersweep' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
