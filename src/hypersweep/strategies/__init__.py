"""What to try next: grid, random and TPE behind one ``Strategy`` interface."""

from __future__ import annotations

from typing import Any

from hypersweep.strategies._base import HistoryTrial, Strategy, Suggestion, params_key, trial_seed
from hypersweep.strategies._grid import GridStrategy
from hypersweep.strategies._optuna import RandomStrategy, TPEStrategy

__all__ = [
    "GridStrategy",
    "HistoryTrial",
    "RandomStrategy",
    "Strategy",
    "Suggestion",
    "TPEStrategy",
    "make_strategy",
    "params_key",
    "trial_seed",
]

_STRATEGIES: dict[str, type[Strategy]] = {
    "grid": GridStrategy,
    "random": RandomStrategy,
    "tpe": TPEStrategy,
}


def make_strategy(spec: Any, study_seed: int) -> Strategy:
    """The strategy named by ``spec.strategy.name``, seeded from the study seed."""
    return _STRATEGIES[spec.strategy.name](spec, study_seed)  # type: ignore[call-arg]
