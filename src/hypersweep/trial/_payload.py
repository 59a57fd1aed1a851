"""The trial payload: what the engine hands an executor, and what it returns.

Executors run ``payload(channel)`` without knowing what is inside. The payload is small and
picklable (it crosses to Ray workers); it captures the environment once per worker process, sets up
the trial context, runs a function or a command, and returns a :class:`TrialRunResult`.
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from hypersweep.provenance import capture_environment
from hypersweep.trial._imports import forget_orphaned_modules
from hypersweep.trial._result import Channel, TrialRunResult, TrialSpec, error_text
from hypersweep.trial._runners import run_command, run_function

__all__ = ["TrialPayload"]

# per worker process: the runs (environment tokens) it sent its full environment to; later results of
# the same run carry the hash only
_env_sent: set[str] = set()


@dataclass(frozen=True)
class TrialPayload(TrialSpec):
    """A trial as an executor runs it: ``payload(channel) -> TrialRunResult``."""

    def __call__(self, channel: Channel | None) -> TrialRunResult:
        started = datetime.now(UTC)
        if channel is not None:
            channel.started(self.trial_id, started)
        placement = channel.placement() if channel is not None else {}
        result: TrialRunResult
        try:
            if self.function is not None:
                result = run_function(self, channel)
            else:
                result = run_command(self, channel)
        except Exception as e:  # noqa: BLE001 - a failed trial is data, recorded with its traceback
            result = TrialRunResult(state="failed", error=error_text(e))
        except BaseException:  # cancelled: Ray raised KeyboardInterrupt, perhaps inside an import
            forget_orphaned_modules()  # the worker runs later trials: leave it importable
            raise
        if self.artifact_root:  # where the trial's blobs may be: the driver keeps only records inside it
            from hypersweep.artifacts import trial_scope

            result.artifact_scope = trial_scope(self.artifact_root, self.study, self.trial_key, self.params)
        result.started_at = started
        result.finished_at = datetime.now(UTC)
        result.host = socket.gethostname()
        result.node_id = placement.get("node_id")
        result.gpu_ids = tuple(placement.get("gpu_ids", ()))
        if self.capture_env:
            env = capture_environment()
            result.environment_hash = env.hash
            if self.environment_token not in _env_sent or channel is None:
                result.environment = env
                _env_sent.add(self.environment_token)
        if result.state == "complete":
            for metric in self.objectives or (self.objective,):
                _check_objective(metric, result)
                if result.state != "complete":
                    break
        return result


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
