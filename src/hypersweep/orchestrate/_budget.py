"""The number of finished trials a run aims for."""

from __future__ import annotations

from hypersweep.errors import UsageError
from hypersweep.spec import MAX_TRIALS, SweepSpec, grid_size

__all__ = ["budget_trials"]


def budget_trials(spec: SweepSpec, trials: int | None) -> int | None:
    """``--trials``, else ``budget.trials``, else the grid's size; None: no limit."""
    if trials is not None:
        if not 0 <= trials <= MAX_TRIALS:
            raise UsageError(f"--trials must be between 0 and {MAX_TRIALS} (2**31 - 1), not {trials}")
        return trials
    if spec.budget.trials is not None:
        return spec.budget.trials
    if spec.strategy.name == "grid":
        return grid_size(spec.parameters)
    return None
