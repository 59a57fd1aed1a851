"""What crosses between the driver and a worker: the trial's spec, its channel, and its result."""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hypersweep.records import EnvironmentRecord

__all__ = ["Channel", "TrialRunResult", "TrialSpec", "error_text", "worker_env"]

_TRACEBACK_TAIL = 4000


class Channel(Protocol):
    """How a running trial talks to the driver; provided by the executor."""

    def push(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool | None:
        """Deliver reports and output; True: the trial should stop (pruned); None: nobody listens
        yet, nothing was delivered (the trial keeps them and tries again later)."""

    def placement(self) -> dict[str, Any]: ...

    def started(self, key: int, at: datetime) -> None:
        """The worker started trial ``key`` at ``at``: the driver marks it running and counts its
        timeout from then. Never blocks the trial; delivered late (or, when nothing listens, never:
        the result carries the start too)."""


@dataclass
class TrialRunResult:
    state: str  # complete | pruned | failed
    metrics: dict[str, float] = field(default_factory=dict)
    points: list[tuple[str, int, float]] = field(default_factory=list)  # reports not yet pushed
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    environment: EnvironmentRecord | None = None
    environment_hash: str | None = None
    host: str | None = None
    node_id: str | None = None
    gpu_ids: tuple[str, ...] = ()
    log_tail: str | None = None
    artifacts: list[tuple[str, str]] = field(default_factory=list)
    pushed: bool = False  # reports or output went through the channel before this result
    artifact_records: list[Any] = field(default_factory=list)  # ArtifactRecords stored by the worker
    # where this trial's blobs may be (hypersweep.artifacts.ArtifactScope, from the driver's payload):
    # the driver keeps only the records inside it
    artifact_scope: Any = None


@dataclass(frozen=True)
class TrialSpec:
    """What a trial runs, with what: the fields of a :class:`TrialPayload` (which the runners read)."""

    trial_id: int
    study: str
    number: int | None
    params: Mapping[str, Any]  # flat (dotted names)
    nested_params: Mapping[str, Any]  # what the trial receives
    seed: int
    workdir: str
    objective: str | None
    objectives: tuple[str, ...] = ()  # every objective of a study with several (the first is `objective`)
    function: str | None = None
    command: tuple[str, ...] | None = None
    program: str | None = None
    timeout_s: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    sync_reports: bool = False  # a pruner listens: send every report at once
    capture_env: bool = True
    environment_token: str = (
        ""  # the driver's run: the full environment goes with a worker's first result of it
    )
    wandb_capture: bool = False  # command trials import hypersweep's offline `wandb` stand-in
    artifact_root: str | None = None  # fsspec URL or folder for artifacts and checkpoints
    monitoring_interval_s: float | None = 2.0  # system metrics sampling period; None: off

    @property
    def trial_key(self) -> str:
        """The trial's folder under the artifact root: its number, or ``rerun-<trial_id>``."""
        return str(self.number) if self.number is not None else f"rerun-{self.trial_id}"


def error_text(e: BaseException) -> str:
    text = "".join(traceback.format_exception(e))
    if len(text) > _TRACEBACK_TAIL:
        text = "...\n" + text[-_TRACEBACK_TAIL:]
    return f"{type(e).__name__}: {e}\n{text}"


def worker_env(payload: TrialSpec, artifact_dir: str | None = None) -> dict[str, str]:
    """The ``HYPERSWEEP_*`` variables a command trial gets."""
    env = {
        "HYPERSWEEP_TRIAL_NUMBER": "" if payload.number is None else str(payload.number),
        "HYPERSWEEP_STUDY": payload.study,
        "HYPERSWEEP_SEED": str(payload.seed),
        "HYPERSWEEP_PARAMS": json.dumps(payload.nested_params, default=str),
        "PYTHONUNBUFFERED": "1",
    }
    if artifact_dir:
        env["HYPERSWEEP_ARTIFACT_DIR"] = artifact_dir
    env.update(payload.env)
    return env
