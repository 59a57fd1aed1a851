"""Sweep files (native and W&B) -> validated, immutable ``SweepSpec``.

``load_spec(path)`` reads a file, ``parse_spec(text)`` a string; both raise :class:`~hypersweep.errors.SpecError`
with every violation (YAML path, line, column, a fix). ``grid_points``/``grid_size`` expand grids,
``build_argv`` expands command templates and W&B macros, ``json_schema`` describes the native format.
"""

from hypersweep.spec._command import build_argv
from hypersweep.spec._grid import grid_points, grid_size
from hypersweep.spec._load import load_spec, parse_spec
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
from hypersweep.spec._strategy import GP_INSTALL, add_strategy_name, auto_strategy, gp_available

__all__ = [
    "GP_INSTALL",
    "Budget",
    "EarlyStopping",
    "Objective",
    "Param",
    "Resources",
    "StrategyConfig",
    "SweepSpec",
    "TrialConfig",
    "active_only",
    "add_strategy_name",
    "auto_strategy",
    "build_argv",
    "flatten",
    "gp_available",
    "grid_points",
    "grid_size",
    "is_active",
    "json_schema",
    "load_spec",
    "nest",
    "nest_params",
    "parse_spec",
]
