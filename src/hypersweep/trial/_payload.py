"""The trial payload: what the engine hands an executor, and what it returns.

Executors run ``payload(channel)`` without knowing what is inside. The payload is small and
picklable (it crosses to Ray workers); it captures the environment once per worker process, sets up
the trial context, runs a function or a command, and returns a :class:`TrialRunResult`.
"""

from __future__ import annotations

import math
import socket
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hypersweep.environment import capture_environment
from hypersweep.records import EnvironmentRecord
from hypersweep.trial._imports import forget_orphaned_modules

__all__ = ["Channel", "TrialPayload", "TrialRunResult"]

_TRACEBACK_TAIL = 4000
_env_sent = False  # per worker process: the full environment travels with the first result only


class Channel(Protocol):
    """How a running trial talks to the driver; provided by the executor."""

    def push(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool | None:
        """Deliver reports and output; True: the trial should stop (pruned); None: nobody listens
        yet, nothing was delivered (the trial keeps them and tries again later)."""

    def placement(self) -> dict[str, Any]: ...


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


@dataclass(frozen=True)
class TrialPayload:
    trial_id: int
    study: str
    number: int | None
    params: Mapping[str, Any]  # flat (dotted names)
    nested_params: Mapping[str, Any]  # what the trial receives
    seed: int
    workdir: str
    objective: str | None
    function: str | None = None
    command: tuple[str, ...] | None = None
    program: str | None = None
    timeout_s: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    sync_reports: bool = False  # a pruner listens: send every report at once
    capture_env: bool = True
    wandb_capture: bool = False  # command trials import hypersweep's offline `wandb` stand-in
    artifact_root: str | None = None  # fsspec URL or folder for artifacts and checkpoints
    monitoring_interval_s: float | None = 2.0  # system metrics sampling period; None: off

    def __call__(self, channel: Channel | None) -> TrialRunResult:
        from hypersweep.trial._runners import run_command, run_function

        global _env_sent
        started = datetime.now(UTC)
        placement = channel.placement() if channel is not None else {}
        result: TrialRunResult
        try:
            if self.function is not None:
                result = run_function(self, channel)
            else:
                result = run_command(self, channel)
        except Exception as e:  # noqa: BLE001 - a failed trial is data, recorded with its traceback
            result = TrialRunResult(state="failed", error=_error_text(e))
        except BaseException:  # cancelled: Ray raised KeyboardInterrupt, perhaps inside an import
            forget_orphaned_modules()  # the worker runs later trials: leave it importable
            raise
        result.started_at = started
        result.finished_at = datetime.now(UTC)
        result.host = socket.gethostname()
        result.node_id = placement.get("node_id")
        result.gpu_ids = tuple(placement.get("gpu_ids", ()))
        if self.capture_env:
            env = capture_environment()
            result.environment_hash = env.hash
            if not _env_sent or channel is None:
                result.environment = env
                _env_sent = True
        if result.state == "complete":
            _check_objective(self.objective, result)
        return result


def _error_text(e: BaseException) -> str:
    text = "".join(traceback.format_exception(e))
    if len(text) > _TRACEBACK_TAIL:
        text = "...\n" + text[-_TRACEBACK_TAIL:]
    return f"{type(e).__name__}: {e}\n{text}"


def _check_objective(objective: str | None, result: TrialRunResult) -> None:
    if objective is None:
        return
    value = result.metrics.get(objective)
    if value is None:
        result.state = "failed"
        have = ", ".join(sorted(result.metrics)) or "none"
        result.error = f"objective metric {objective!r} was not reported (metrics reported: {have})"
    elif not math.isfinite(value):
        result.state = "failed"
        result.error = f"objective metric {objective!r} is {value}"


def worker_env(payload: TrialPayload, artifact_dir: str | None = None) -> dict[str, str]:
    """The ``HYPERSWEEP_*`` variables a command trial gets."""
    import json

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
