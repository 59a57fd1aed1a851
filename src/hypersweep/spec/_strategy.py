"""The ``strategy`` key: the catalog of names, their options, and how ``auto`` and W&B's ``bayes`` resolve.

``auto`` (the default of a native file without ``strategy``) and W&B's ``method: bayes`` are resolved when
the file is read, from the space, the budget and whether torch is installed; ``run`` records the result
as the study's strategy when it creates the study, and an existing study always runs what it recorded
(docs/sweep-file.md, "Strategies").
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from hypersweep.spec._check import Report
from hypersweep.spec._model import StrategyConfig
from hypersweep.spec._space import Param
from hypersweep.spec._yaml import Path

__all__ = [
    "AUTO_GP_MAX_DIMS",
    "AUTO_GP_MAX_TRIALS",
    "GP_INSTALL",
    "OPTION_TYPES",
    "STRATEGY_OPTIONS",
    "add_strategy_name",
    "auto_options",
    "auto_strategy",
    "bayes_strategy",
    "gp_available",
    "parse_strategy",
    "resolve_strategy",
]

GP_INSTALL = "pip install 'hypersweep[gp]'"
AUTO_GP_MAX_DIMS = 10  # auto picks GP for numeric spaces of at most this many searched parameters ...
AUTO_GP_MAX_TRIALS = 200  # ... and a budget of at most this many trials (GP's cost grows with history)
# auto's gp draws max(this, 2 x searched parameters) random trials before the GP fits
AUTO_GP_MIN_STARTUP = 10

_TPE = (
    "n_startup_trials",
    "n_ei_candidates",
    "multivariate",
    "constant_liar",
    "group",
    "consider_endpoints",
    "prior_weight",
    "warm_start",
)
# The catalog of strategy names the spec accepts, with the options each takes. A new strategy is added
# here (or with ``add_strategy_name``) and registered in ``hypersweep.strategies``.
STRATEGY_OPTIONS: dict[str, tuple[str, ...]] = {
    "auto": (),
    "grid": (),
    "random": (),
    "tpe": _TPE,
    "gp": ("n_startup_trials", "deterministic_objective", "warm_start"),
    "cmaes": (
        "n_startup_trials",
        "sigma0",
        "popsize",
        "use_separable_cma",
        "with_margin",
        "lr_adapt",
    ),
    "qmc": (),
    "nsga2": ("population_size", "mutation_prob", "crossover_prob", "swapping_prob", "warm_start"),
}
# How each option is checked: (kind, minimum, exclusive minimum, maximum). Options not named here are
# booleans.
OPTION_TYPES: dict[str, tuple[str, float | None, bool, float | None]] = {
    "n_startup_trials": ("int", 0, False, None),
    "n_ei_candidates": ("int", 1, False, None),
    "prior_weight": ("number", 0, True, None),
    "sigma0": ("number", 0, True, None),
    "popsize": ("int", 1, False, None),
    "population_size": ("int", 2, False, None),
    "mutation_prob": ("number", 0, False, 1),
    "crossover_prob": ("number", 0, False, 1),
    "swapping_prob": ("number", 0, False, 1),
    "warm_start": ("names", None, False, None),
}
_NEEDS_OBJECTIVE = ("tpe", "gp", "cmaes", "nsga2")
# strategies of the catalog that optimise one objective only (the registry's ``multi_objective`` trait;
# the run checks the trait of plug-in strategies too)
SINGLE_OBJECTIVE_ONLY = ("cmaes",)
AUTO_NSGA2_MIN_TRIALS = 1000  # auto, several objectives: NSGA-II from this budget on (or none), else TPE


# strategies whose samplers search towards feasibility when told constraint violations
CONSTRAINT_AWARE = frozenset({"tpe", "gp", "nsga2"})


def add_strategy_name(name: str, options: tuple[str, ...] = ()) -> None:
    """Accept ``strategy: name`` in sweep files, with boolean ``options`` (a plug-in strategy's catalog
    entry; it is made by the strategy registered under that name in ``hypersweep.strategies``)."""
    STRATEGY_OPTIONS[name] = tuple(options)


def gp_available() -> bool:
    """True when torch (the ``gp`` extra) can be imported."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def parse_strategy(r: Report, raw: Any, path: Path, has_objective: bool) -> StrategyConfig:
    """The ``strategy`` key. No key: ``auto`` (resolved by ``resolve_strategy`` once the space and the
    budget are known); a mapping without ``name``: tpe (random without an objective)."""
    if raw is None:
        return StrategyConfig("auto", {}, requested="auto")
    options: dict[str, Any] = {}
    if isinstance(raw, str):
        name: Any = raw
        name_path = path
    elif isinstance(raw, dict):
        name = raw.get("name", "tpe" if has_objective else "random")
        name_path = (*path, "name")
        options = {k: v for k, v in raw.items() if k != "name"}
    else:
        r.error(
            path,
            f"strategy must be one of {', '.join(STRATEGY_OPTIONS)}, or a mapping such as "
            "{name: tpe, n_startup_trials: 10}",
        )
        return StrategyConfig("random", {})
    if name == "bayes":
        r.error(name_path, "unknown strategy 'bayes' (did you mean 'gp'? W&B's bayes runs as gp)")
        return StrategyConfig("random", {})
    checked = r.string(name, name_path, choices=tuple(STRATEGY_OPTIONS))
    if checked is None:
        return StrategyConfig("random", {})
    allowed = STRATEGY_OPTIONS[checked]
    r.unknown_keys(options, path, allowed, what=f"{checked} option")
    clean = _options(r, options, allowed, path)
    if checked in _NEEDS_OBJECTIVE and not has_objective:
        r.error(
            name_path,
            f"{checked} needs an objective to optimise: add `objective: {{metric: ..., goal: ...}}` "
            "or use random",
        )
    if checked == "auto":
        return StrategyConfig("auto", {}, requested="auto")
    return StrategyConfig(checked, clean)


def _options(r: Report, options: dict[str, Any], allowed: tuple[str, ...], path: Path) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in options.items():
        if key not in allowed:
            continue
        p = (*path, key)
        kind, minimum, exclusive, maximum = OPTION_TYPES.get(key, ("bool", None, False, None))
        v: Any
        if kind in ("int", "number"):
            v = r.number(value, p, minimum=minimum, exclusive=exclusive, integer=kind == "int")
            if v is not None and maximum is not None and v > maximum:
                r.error(p, f"{key} must be at most {maximum}, not {v}")
                v = None
        elif kind == "names":
            names = _names(r, value, p)
            v = tuple(names) if names is not None else None
        else:
            v = r.boolean(value, p)
        if v is not None:
            clean[key] = v
    return clean


def _names(r: Report, value: Any, path: Path) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        r.error(path, "warm_start must be a list of study names")
        return None
    return list(value)


def auto_strategy(
    params: Sequence[Param], trials: int | None, has_objective: bool, objectives: int = 1
) -> tuple[str, str]:
    """What ``auto`` runs, and why (docs/sweep-file.md, "strategy: auto").

    GP for a small numeric space and budget, with one objective or several (Optuna's GP takes several
    objectives, through expected hypervolume improvement); otherwise TPE, or with several objectives
    multi-objective TPE below ``AUTO_NSGA2_MIN_TRIALS`` trials and NSGA-II from there."""
    if not has_objective:
        return "random", "no objective to optimise"
    many = f"{objectives} objectives, " if objectives > 1 else ""
    why_not_gp = _why_not_gp(params, trials)
    if why_not_gp is None:
        return "gp", f"{many}{len(_searched(params))} numeric parameters and a budget of {trials} trials"
    if objectives > 1:
        if trials is None or trials >= AUTO_NSGA2_MIN_TRIALS:
            budget = "no trial budget" if trials is None else f"a budget of {trials} trials"
            return "nsga2", f"{objectives} objectives and {budget} (NSGA-II: {AUTO_NSGA2_MIN_TRIALS} or more)"
        return "tpe", (
            f"{objectives} objectives and {why_not_gp} "
            f"(multi-objective TPE; NSGA-II from {AUTO_NSGA2_MIN_TRIALS} trials)"
        )
    return "tpe", why_not_gp


def auto_options(name: str, params: Sequence[Param]) -> dict[str, Any]:
    """The options ``auto`` gives the strategy it picked: for ``gp``, ``n_startup_trials`` = max(10, 2 x the
    searched parameters): Optuna's default of 10, raised to Ax's 2 per parameter
    (``calculate_num_initialization_trials``) where that is more, so a GP never fits on fewer random points
    than Optuna's default. It depends on the space only, which a resume cannot change, never on the budget.
    Optuna's 10 fits too early in 6-D: over 10 seeds x 50 trials of Optuna's GPSampler on Hartmann-6, 12
    random trials gave -3.196 +- 0.038 against -2.919 +- 0.225. Ax's own floor of 5 was tried too: better on
    the 2-D KernelRidge task, but it converged later on one seed of the constrained Branin (7.46 against
    0.399 after 50 trials), so the floor stays at Optuna's 10. Other strategies: their defaults."""
    if name != "gp":
        return {}
    return {"n_startup_trials": max(AUTO_GP_MIN_STARTUP, 2 * len(_searched(params)))}


def _searched(params: Sequence[Param]) -> list[Param]:
    """The parameters a strategy searches (constants are not)."""
    return [p for p in params if p.kind != "constant"]


def _why_not_gp(params: Sequence[Param], trials: int | None) -> str | None:
    """Why ``auto`` does not pick GP for this space and budget, or None when it does."""
    searched = _searched(params)
    if any(p.kind == "categorical" for p in searched):
        return "the space has categorical parameters"
    if any(p.when for p in params):
        return "the space has conditional parameters"
    if not searched or len(searched) > AUTO_GP_MAX_DIMS:
        return f"the space has {len(searched)} searched parameters (GP: 1 to {AUTO_GP_MAX_DIMS})"
    if trials is None or trials > AUTO_GP_MAX_TRIALS:
        budget = "no trial budget" if trials is None else f"a budget of {trials} trials"
        return f"{budget} (GP: at most {AUTO_GP_MAX_TRIALS})"
    if not gp_available():
        return f"GP would fit but torch is not installed ({GP_INSTALL})"
    return None


def bayes_strategy(options_given: Sequence[str]) -> tuple[str, str | None]:
    """What W&B's ``method: bayes`` runs: gp (W&B's engine is a Gaussian process), or tpe without torch
    or when the ``hypersweep:`` block gives TPE-only options. Returns the name and a notice, or None."""
    tpe_only = [k for k in options_given if k not in STRATEGY_OPTIONS["gp"]]
    if tpe_only:
        return "tpe", None
    if not gp_available():
        return "tpe", f"method: bayes runs as tpe here: torch is not installed ({GP_INSTALL} to run it on GP)"
    return "gp", None


def resolve_strategy(
    r: Report, strategy: StrategyConfig, params: Sequence[Param], trials: int | None, has_objective: bool,
    path: Path, objectives: int = 1, objectives_key: str = "objectives",
) -> StrategyConfig:  # fmt: skip
    """``auto`` becomes the strategy it picks; ``gp`` without torch is an error naming the install; a
    single-objective strategy with several objectives is an error."""
    if strategy.name == "auto":
        name, reason = auto_strategy(params, trials, has_objective, objectives)
        return StrategyConfig(name, auto_options(name, params), requested="auto", reason=reason)
    if objectives > 1 and strategy.name in SINGLE_OBJECTIVE_ONLY:
        r.error(
            path,
            f"strategy {strategy.name} optimises one objective, and `{objectives_key}` lists {objectives}: "
            "use nsga2, tpe, gp, random, qmc or grid (or auto)",
        )
    if strategy.name == "gp" and not gp_available():
        r.error(path, f"strategy gp needs torch, which is not installed: {GP_INSTALL}")
    return strategy
