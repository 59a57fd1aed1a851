"""Sweep files (native and W&B) -> validated, immutable ``SweepSpec``.

``load_spec(path)`` reads a file, ``parse_spec(text)`` a string; both raise :class:`~hypersweep.errors.SpecError`
with every violation (YAML path, line, column, a fix). ``grid_points``/``grid_size`` expand grids,
``build_argv`` expands command templates and W&B macros, ``json_schema`` describes the native format.
``MAX_*`` are the loader's limits (docs/sweep-file.md, "Limits").
"""

from hypersweep.spec._check import MAX_SEED, MAX_TRIALS
from hypersweep.spec._command import MACROS, args_json, build_argv, trial_config
from hypersweep.spec._constraints import (
    MISSING_VIOLATION,
    Constraint,
    constraints_of,
    feasible,
    violations,
)
from hypersweep.spec._grid import MAX_GRID_POINTS, grid_points, grid_size
from hypersweep.spec._load import load_spec, objective_names, parse_spec
from hypersweep.spec._model import (
    Budget,
    EarlyStopping,
    Objective,
    Resources,
    StrategyConfig,
    SweepSpec,
    TrialConfig,
)
from hypersweep.spec._schema import json_schema
from hypersweep.spec._space import Param, active_only, flatten, is_active, nest, nest_params
from hypersweep.spec._strategy import (
    GP_INSTALL,
    add_strategy_name,
    auto_options,
    auto_strategy,
    gp_available,
)
from hypersweep.spec._yaml import MAX_NODES

__all__ = [
    "GP_INSTALL",
    "MACROS",
    "MAX_GRID_POINTS",
    "MAX_NODES",
    "MAX_SEED",
    "MAX_TRIALS",
    "MISSING_VIOLATION",
    "Budget",
    "Constraint",
    "EarlyStopping",
    "Objective",
    "Param",
    "Resources",
    "StrategyConfig",
    "SweepSpec",
    "TrialConfig",
    "active_only",
    "add_strategy_name",
    "args_json",
    "auto_options",
    "auto_strategy",
    "build_argv",
    "constraints_of",
    "feasible",
    "flatten",
    "gp_available",
    "grid_points",
    "grid_size",
    "is_active",
    "json_schema",
    "load_spec",
    "nest",
    "nest_params",
    "objective_names",
    "parse_spec",
    "trial_config",
    "violations",
]
