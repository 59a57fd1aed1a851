"""What runs inside a worker: the trial payload, function and command runners, ``report``."""

from hypersweep.trial._context import TrialInfo, current_trial, log_artifact, report, trial_seed
from hypersweep.trial._payload import TrialPayload
from hypersweep.trial._result import Channel, TrialRunResult

__all__ = [
    "Channel",
    "TrialInfo",
    "TrialPayload",
    "TrialRunResult",
    "current_trial",
    "log_artifact",
    "report",
    "trial_seed",
]
