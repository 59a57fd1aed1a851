"""``run --dry-run``: what a sweep would run, recording nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from hypersweep.orchestrate._budget import budget_trials
from hypersweep.spec import grid_points, load_spec

__all__ = ["dry_run"]


def dry_run(
    path: str | os.PathLike[str],
    *,
    overrides: Sequence[str] = (),
    trials: int | None = None,
    seed: int | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """What ``run`` would do, without recording anything: grid points or the first suggestions."""
    from hypersweep.strategies import make_strategy

    spec = load_spec(path, overrides)
    budget = budget_trials(spec, trials)
    if spec.strategy.name == "grid":
        points = grid_points(spec.parameters)
        if budget is not None:
            points = points[:budget]
    else:
        strategy = make_strategy(spec, seed if seed is not None else (spec.seed or 0))
        strategy.load_history([])
        points = [dict(s.params) for s in strategy.ask(min(limit, budget or limit))]
    return {
        "name": spec.name,
        "strategy": spec.strategy.name,
        "budget": budget,
        "points": points[:limit],
        "total_points": len(points),
    }
