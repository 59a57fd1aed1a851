"""The write side: run, resume, stop, detach, dry-run and reproduce a sweep.

Each function wires spec + store + strategy + executor + engine; the CLI and the Python API call these.
"""

from __future__ import annotations

from hypersweep.orchestrate._control import detach_sweep, stop_sweep
from hypersweep.orchestrate._dry_run import dry_run
from hypersweep.orchestrate._reproduce import MetricDiff, ReproduceResult, reproduce
from hypersweep.orchestrate._run import RunResult, resume_sweep, run_sweep

__all__ = [
    "MetricDiff",
    "ReproduceResult",
    "RunResult",
    "detach_sweep",
    "dry_run",
    "reproduce",
    "resume_sweep",
    "run_sweep",
    "stop_sweep",
]
