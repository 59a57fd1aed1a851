"""The strategies catalog: each strategy registers its name, how to make it, and its traits.

The engine and the run are driven by these traits, never by a strategy's name, so adding a strategy
touches only this package and the spec's catalog of names (``hypersweep.spec.add_strategy_name``):

* ``adaptive``: it learns from results (TPE). Ask-ahead stays shallow so suggestions stay fresh, and
  with one trial at a time it asks after each result. A result-blind strategy (grid, random) may have
  its very short trials chunked several to a task.
* ``finite``: its space is a finite list of points walked once (grid). Its size is the default budget,
  ``dry-run`` lists its points, and it is asked only as trials start (never ahead).
* ``multi_objective``: it can optimise several objectives at once.
* ``extra``: the optional-dependency extra it needs (``pip install hypersweep[extra]``), or None.

Built-in strategies register here lazily (``"module:Class"``), so naming one costs no import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypersweep.spec import grid_points, grid_size
from hypersweep.strategies._base import Strategy, StrategyTraits

__all__ = ["StrategyEntry", "make_strategy", "register_strategy", "strategy_entry", "strategy_traits"]

Factory = Callable[[Any, int], Strategy]


@dataclass(frozen=True)
class StrategyEntry:
    name: str
    factory: Factory | str  # a callable(spec, study_seed), or "module:Class" imported when first made
    traits: StrategyTraits
    size: Callable[[Any], int | None] | None = None  # finite: how many points the space holds (None: unknown)
    points: Callable[[Any], list[dict[str, Any]]] | None = None  # finite strategies: the points, in order

    def make(self, spec: Any, study_seed: int) -> Strategy:
        factory = self.factory
        if isinstance(factory, str):
            module, _, attr = factory.partition(":")
            factory = getattr(importlib.import_module(module), attr)
        strategy = factory(spec, study_seed)
        strategy.traits = self.traits
        return strategy


_REGISTRY: dict[str, StrategyEntry] = {}


def register_strategy(
    name: str,
    factory: Factory | str,
    traits: StrategyTraits,
    *,
    size: Callable[[Any], int | None] | None = None,
    points: Callable[[Any], list[dict[str, Any]]] | None = None,
) -> StrategyEntry:
    """Add (or replace) strategy ``name``. A ``finite`` strategy gives ``size`` and ``points``. The
    spec accepts the name once it is in the spec's catalog too (``hypersweep.spec.add_strategy_name``)."""
    if traits.finite and (size is None or points is None):
        raise ValueError(f"finite strategy {name!r} needs size and points")
    entry = StrategyEntry(name, factory, traits, size, points)
    _REGISTRY[name] = entry
    return entry


def strategy_entry(name: str) -> StrategyEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"no strategy {name!r} is registered (known: {', '.join(_REGISTRY)})") from None


def strategy_traits(name: str) -> StrategyTraits:
    """The traits strategy ``name`` declared."""
    return strategy_entry(name).traits


def make_strategy(spec: Any, study_seed: int) -> Strategy:
    """The strategy named by ``spec.strategy.name``, seeded from the study seed."""
    return strategy_entry(spec.strategy.name).make(spec, study_seed)


def _grid_size(spec: Any) -> int | None:
    return grid_size(spec.parameters)


def _grid_points(spec: Any) -> list[dict[str, Any]]:
    return [dict(p) for p in grid_points(spec.parameters)]


register_strategy(
    "grid",
    "hypersweep.strategies._grid:GridStrategy",
    StrategyTraits(adaptive=False, finite=True, multi_objective=True),
    size=_grid_size,
    points=_grid_points,
)
register_strategy(
    "random",
    "hypersweep.strategies._optuna:RandomStrategy",
    StrategyTraits(adaptive=False, finite=False, multi_objective=True),
)
register_strategy(
    "tpe",
    "hypersweep.strategies._optuna:TPEStrategy",
    StrategyTraits(adaptive=True, finite=False, multi_objective=True),
)
register_strategy(
    "gp",
    "hypersweep.strategies._samplers:GPStrategy",
    StrategyTraits(adaptive=True, finite=False, multi_objective=True, extra="gp"),
)
register_strategy(
    "cmaes",
    "hypersweep.strategies._samplers:CmaEsStrategy",
    StrategyTraits(adaptive=True, finite=False, multi_objective=False),
)
register_strategy(
    "qmc",
    "hypersweep.strategies._samplers:QMCStrategy",
    StrategyTraits(adaptive=False, finite=False, multi_objective=True),
)
register_strategy(
    "nsga2",
    "hypersweep.strategies._samplers:NSGA2Strategy",
    StrategyTraits(adaptive=True, finite=False, multi_objective=True),
)
