"""``run --dry-run``: what a sweep would run, recording nothing."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from hypersweep.orchestrate._budget import budget_trials
from hypersweep.spec import build_argv, load_spec, trial_config

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
    points = points[:limit]
    argv = None
    if spec.trial.command is not None and spec.trial.function is None:  # the argv each trial would run
        argv = [
            build_argv(
                spec.trial.command,
                p,
                config=trial_config(spec.parameters, p, wandb=spec.format == "wandb"),
                program=spec.trial.program,
                interpreter=sys.executable,
                args_json_file="<args.json>",
            )
            for p in points
        ]
    return {
        "name": spec.name,
        "strategy": spec.strategy.name,
        "budget": budget,
        "points": points,
        "argv": argv,
        "total_points": len(points),
    }
