"""The number of finished trials a run aims for."""

from __future__ import annotations

from hypersweep.errors import UsageError
from hypersweep.spec import MAX_TRIALS, SweepSpec
from hypersweep.strategies import strategy_entry

__all__ = ["budget_trials"]


def budget_trials(spec: SweepSpec, trials: int | None) -> int | None:
    """``--trials``, else ``budget.trials``, else a finite strategy's size (a grid's); None: no limit."""
    if trials is not None:
        if not 0 <= trials <= MAX_TRIALS:
            raise UsageError(f"--trials must be between 0 and {MAX_TRIALS} (2**31 - 1), not {trials}")
        return trials
    if spec.budget.trials is not None:
        return spec.budget.trials
    entry = strategy_entry(spec.strategy.name)
    if entry.traits.finite and entry.size is not None:
        return entry.size(spec)
    return None
