"""Frozen records and enums shared by every layer. Standard library only.

Records are what crosses layer boundaries: the store speaks in them, the engine builds them, the API
returns them. They hold plain Python values (str, int, float, bool, None, dict, list, tuple) so they
can be pickled to Ray workers and serialised to JSON.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "TrialSummary",
    "ArtifactRecord",
    "Direction",
    "EndReason",
    "EnvironmentRecord",
    "LeaseInfo",
    "MetricPoint",
    "NewStudy",
    "NewTrial",
    "StudyRecord",
    "StudyStatus",
    "TrialKind",
    "TrialOutcome",
    "TrialRecord",
    "TrialState",
    "is_system_metric",
]

SYSTEM_METRIC_PREFIX = "sys/"


def is_system_metric(name: str) -> bool:
    return name.startswith(SYSTEM_METRIC_PREFIX)


class TrialState(str, enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def is_finished(self) -> bool:
        """Counts toward ``budget.trials`` (complete or pruned)."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED)

    @property
    def is_terminal(self) -> bool:
        """No longer changes: finished, failed or interrupted."""
        return self not in (TrialState.WAITING, TrialState.RUNNING)


class StudyStatus(str, enum.Enum):
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    FINISHED = "finished"


class Direction(str, enum.Enum):
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a < b if self is Direction.MINIMIZE else a > b


class EndReason(str, enum.Enum):
    """Why a study's last run ended (``studies`` shows it)."""

    BUDGET = "budget"  # the trial budget was spent (or the search space exhausted)
    TARGET = "target"  # the objective reached ``objective.target``
    TIMEOUT = "timeout"  # ``budget.timeout`` ran out
    STOP = "stop"  # ``hypersweep stop``
    FAILURES = "failures"  # the failure budget was exceeded
    INTERRUPT = "interrupt"  # Ctrl-C / SIGTERM, or the driver died
    PATIENCE = "patience"  # no improvement for the configured number of trials


class TrialKind(str, enum.Enum):
    SWEEP = "sweep"  # a trial of the sweep: numbered, counted in the budget
    RERUN = "rerun"  # a `reproduce` rerun: outside numbering, budget and leaderboard


@dataclass(frozen=True)
class MetricPoint:
    """One reported value of one metric at one step."""

    name: str
    step: int
    value: float


@dataclass(frozen=True)
class ArtifactRecord:
    name: str
    uri: str
    size: int
    sha256: str
    kind: str = "file"  # file | checkpoint


@dataclass(frozen=True)
class EnvironmentRecord:
    """What many trials share: interpreter, OS, hardware models, packages. Deduplicated by ``hash``."""

    hash: str
    python_version: str
    python_implementation: str
    os: str
    kernel: str
    cpu_model: str
    cpu_count: int
    ml_packages: Mapping[str, str] = field(default_factory=dict)
    packages: Mapping[str, str] = field(default_factory=dict)
    gpus: tuple[Mapping[str, Any], ...] = ()  # [{"index", "name", "memory_mb"}]
    gpu_driver: str | None = None
    cuda_version: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "python": f"{self.python_implementation} {self.python_version}",
            "os": self.os,
            "cpu": f"{self.cpu_model} x{self.cpu_count}",
            "gpus": [g.get("name") for g in self.gpus],
            "cuda": self.cuda_version,
            **{k: v for k, v in sorted(self.ml_packages.items())},
        }


@dataclass(frozen=True)
class LeaseInfo:
    """Who drives a study."""

    owner: str  # unique token of the driver process
    host: str
    pid: int
    heartbeat_at: datetime
    expired: bool


@dataclass(frozen=True)
class NewStudy:
    """What the driver writes to create a study."""

    name: str
    spec_text: str
    spec_hash: str
    spec_format: str  # native | wandb
    strategy: str
    objective_metric: str | None
    direction: Direction | None
    budget_trials: int | None
    seed: int
    workdir: str  # folder of the sweep file: where trials run
    spec_path: str | None = None
    description: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_diff_hash: str | None = None
    launched_by: str | None = None
    launched_host: str | None = None
    code_hash: str | None = None  # sha256 of the trial's module or program file
    data_hashes: Mapping[str, str] = field(default_factory=dict)  # trial.data path -> sha256
    directions: tuple[Direction, ...] = ()  # one per objective; () means (direction,) when it is set

    def __post_init__(self) -> None:
        _sync_directions(self)


@dataclass(frozen=True)
class StudyRecord:
    study_id: int
    name: str
    spec_text: str
    spec_hash: str
    spec_format: str
    strategy: str
    objective_metric: str | None
    direction: Direction | None
    budget_trials: int | None
    seed: int
    status: StudyStatus
    workdir: str
    created_at: datetime
    updated_at: datetime
    spec_path: str | None = None
    description: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_diff_hash: str | None = None
    launched_by: str | None = None
    launched_host: str | None = None
    stop_requested: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    notes: str | None = None
    lease: LeaseInfo | None = None
    code_hash: str | None = None
    data_hashes: Mapping[str, str] = field(default_factory=dict)
    directions: tuple[Direction, ...] = ()  # one per objective; ``direction`` is the first
    end_reason: EndReason | None = None  # why the last run ended; None before a run ended

    def __post_init__(self) -> None:
        _sync_directions(self)


def _sync_directions(rec: Any) -> None:
    """``direction`` is ``directions[0]``: fill whichever of the two was not given."""
    if not rec.directions and rec.direction is not None:
        object.__setattr__(rec, "directions", (rec.direction,))
    elif rec.directions:
        dirs = tuple(Direction(d) for d in rec.directions)
        object.__setattr__(rec, "directions", dirs)
        if rec.direction is None:
            object.__setattr__(rec, "direction", dirs[0])


def _sync_values(rec: Any) -> None:
    """``objective`` is ``values[0]``: fill whichever of the two was not given."""
    if not rec.values and rec.objective is not None:
        object.__setattr__(rec, "values", (rec.objective,))
    elif rec.values:
        object.__setattr__(rec, "values", tuple(rec.values))
        if rec.objective is None:
            object.__setattr__(rec, "objective", rec.values[0])


@dataclass(frozen=True)
class NewTrial:
    """A trial the driver is about to start. The store allocates its number."""

    params: Mapping[str, Any]  # flat, dotted names for nested W&B params
    seed: int
    retry_of: int | None = None  # trial_id of the failed/interrupted trial whose params this reruns
    kind: TrialKind = TrialKind.SWEEP
    state: TrialState = TrialState.RUNNING


@dataclass(frozen=True)
class TrialOutcome:
    """What a trial's run produced; the driver writes it in one grouped commit."""

    trial_id: int
    state: TrialState  # COMPLETE, PRUNED, FAILED or INTERRUPTED
    metrics: Mapping[str, float] = field(default_factory=dict)  # final values
    objective: float | None = None
    history: tuple[MetricPoint, ...] = ()  # per-step reports not yet written
    started_at: datetime | None = None
    finished_at: datetime | None = None
    environment: EnvironmentRecord | None = None
    worker_host: str | None = None
    ray_node_id: str | None = None
    gpu_ids: tuple[str, ...] = ()
    error: str | None = None
    artifacts: tuple[ArtifactRecord, ...] = ()
    log_tail: str | None = None
    values: tuple[float | None, ...] = ()  # one per objective; ``objective`` is the first
    feasible: bool | None = None  # constrained studies only; kept for complete and pruned trials

    def __post_init__(self) -> None:
        _sync_values(self)


@dataclass(frozen=True, slots=True)
class TrialSummary:
    """The few columns of a trial that charts and totals need, read without params or metrics."""

    number: int | None
    state: TrialState
    objective: float | None
    duration_s: float | None
    started_at: datetime | None
    retry_of: int | None  # trial_id of the trial this reruns


@dataclass(frozen=True)
class TrialRecord:
    trial_id: int
    study_id: int
    number: int | None  # None for reruns
    state: TrialState
    params: Mapping[str, Any]
    seed: int
    kind: TrialKind = TrialKind.SWEEP
    objective: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    retry_of: int | None = None
    worker_host: str | None = None
    ray_node_id: str | None = None
    gpu_ids: tuple[str, ...] = ()
    error: str | None = None
    environment_id: int | None = None
    log_tail: str | None = None
    values: tuple[float | None, ...] = ()  # one per objective; ``objective`` is the first
    feasible: bool | None = None  # None for unconstrained studies and unfinished trials
    change_seq: int = 0  # the study's change cursor when this row last changed

    def __post_init__(self) -> None:
        _sync_values(self)


def clean_float(value: Any) -> float | None:
    """A finite float, or None for NaN/inf/non-numbers."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
