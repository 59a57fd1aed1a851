"""What to try next: grid, random, TPE, GP, CMA-ES, QMC and NSGA-II behind one ``Strategy`` interface.

Each strategy is registered with its traits (``register_strategy``); the implementations (and Optuna)
are imported when a strategy is made, so importing this package stays cheap for the CLI and the
engine's types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hypersweep.strategies._base import (
    HistoryTrial,
    Strategy,
    StrategyTraits,
    Suggestion,
    params_key,
    trial_seed,
)
from hypersweep.strategies._registry import (
    StrategyEntry,
    make_strategy,
    register_strategy,
    strategy_entry,
    strategy_traits,
)

if TYPE_CHECKING:
    from hypersweep.strategies._grid import GridStrategy
    from hypersweep.strategies._optuna import RandomStrategy, TPEStrategy
    from hypersweep.strategies._samplers import CmaEsStrategy, GPStrategy, NSGA2Strategy, QMCStrategy

__all__ = [
    "CmaEsStrategy",
    "GPStrategy",
    "GridStrategy",
    "HistoryTrial",
    "NSGA2Strategy",
    "QMCStrategy",
    "RandomStrategy",
    "Strategy",
    "StrategyEntry",
    "StrategyTraits",
    "Suggestion",
    "TPEStrategy",
    "make_strategy",
    "params_key",
    "register_strategy",
    "strategy_entry",
    "strategy_traits",
    "trial_seed",
]

_IMPLEMENTATIONS = {
    "CmaEsStrategy": "hypersweep.strategies._samplers",
    "GPStrategy": "hypersweep.strategies._samplers",
    "NSGA2Strategy": "hypersweep.strategies._samplers",
    "QMCStrategy": "hypersweep.strategies._samplers",
    "GridStrategy": "hypersweep.strategies._grid",
    "RandomStrategy": "hypersweep.strategies._optuna",
    "TPEStrategy": "hypersweep.strategies._optuna",
}


def __getattr__(name: str) -> Any:
    module = _IMPLEMENTATIONS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(module), name)
