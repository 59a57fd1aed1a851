"""What to try next: grid, random and TPE behind one ``Strategy`` interface.

The implementations (and Optuna) are imported when a strategy is made, so importing this package stays
cheap for the CLI and the engine's types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hypersweep.strategies._base import HistoryTrial, Strategy, Suggestion, params_key, trial_seed

if TYPE_CHECKING:
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

_IMPLEMENTATIONS = {
    "GridStrategy": "hypersweep.strategies._grid",
    "RandomStrategy": "hypersweep.strategies._optuna",
    "TPEStrategy": "hypersweep.strategies._optuna",
}
_BY_NAME = {"grid": "GridStrategy", "random": "RandomStrategy", "tpe": "TPEStrategy"}


def __getattr__(name: str) -> Any:
    module = _IMPLEMENTATIONS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(module), name)


def make_strategy(spec: Any, study_seed: int) -> Strategy:
    """The strategy named by ``spec.strategy.name``, seeded from the study seed."""
    cls = __getattr__(_BY_NAME[spec.strategy.name])
    return cls(spec, study_seed)  # type: ignore[no-any-return]
