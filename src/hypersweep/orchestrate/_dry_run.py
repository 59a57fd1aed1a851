"""``run --dry-run``: what a sweep would run, recording nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from hypersweep.orchestrate._budget import budget_trials
from hypersweep.spec import load_spec

__all__ = ["dry_run"]


def dry_run(
    path: str | os.PathLike[str],
    *,
    overrides: Sequence[str] = (),
    trials: int | None = None,
    seed: int | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """What ``run`` would do, without recording anything: a finite strategy's points (a grid's) or the
    first suggestions."""
    from hypersweep.strategies import strategy_entry

    spec = load_spec(path, overrides)
    budget = budget_trials(spec, trials)
    entry = strategy_entry(spec.strategy.name)
    if entry.traits.finite and entry.points is not None:
        points = entry.points(spec)
        if budget is not None:
            points = points[:budget]
    else:
        strategy = entry.make(spec, seed if seed is not None else (spec.seed or 0))
        strategy.load_history([])
        points = [dict(s.params) for s in strategy.ask(min(limit, budget or limit))]
    return {
        "name": spec.name,
        "strategy": spec.strategy.name,
        "budget": budget,
        "points": points[:limit],
        "total_points": len(points),
    }
