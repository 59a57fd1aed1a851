"""W&B sweep configs: every distribution, inference as W&B's schema does it, and the top-level keys.

The grammar follows W&B's published JSON Schema (``parameter.anyOf`` order for inference, with strict
float-vs-int checks) plus the rules W&B checks outside the schema. Where hypersweep deliberately differs,
the difference is a warning, never a silent change (see docs/sweep-file.md).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from hypersweep.records import Direction
from hypersweep.spec._check import MAX_TRIALS, Report, did_you_mean, is_int, is_number, param_value_problem
from hypersweep.spec._command import escape_braces
from hypersweep.spec._constraints import parse_constraints
from hypersweep.spec._model import EarlyStopping, Objective, StrategyConfig
from hypersweep.spec._quantile import QuantilePPF, has_multiple_inside
from hypersweep.spec._sections import (
    parse_artifacts,
    parse_budget,
    parse_command_list,
    parse_early_stopping,
    parse_monitoring,
    parse_resources,
    parse_seed,
    parse_strategy,
    parse_trial,
    refuse_pruning,
)
from hypersweep.spec._space import Param
from hypersweep.spec._strategy import bayes_strategy
from hypersweep.spec._yaml import Path

__all__ = [
    "DISTRIBUTIONS",
    "STUDY_NAME_BAD",
    "is_study_name",
    "study_name_from",
    "HYPERSWEEP_BLOCK_KEYS",
    "WANDB_TOP_KEYS",
    "infer_distribution",
    "program_problem",
    "parse_wandb",
    "wandb_param",
]

WANDB_TOP_KEYS = (
    "method",
    "metric",
    "metrics",
    "parameters",
    "run_cap",
    "program",
    "command",
    "early_terminate",
    "name",
    "description",
    "project",
    "entity",
    "controller",
    "job",
    "image_uri",
    "apiVersion",
    "kind",
)
HYPERSWEEP_BLOCK_KEYS = (
    "resources",
    "trial",
    "budget",
    "seed",
    "early_stopping",
    "monitoring",
    "artifacts",
    "enqueue",
    "strategy",
    "constraints",
)
_NO_EFFECT = ("project", "entity", "controller", "job", "image_uri", "apiVersion", "kind")

# distribution -> (keys with defaults (None: required), the kinds each key must be)
_F = "number"
_I = "integer"
DISTRIBUTIONS: dict[str, dict[str, tuple[Any, str]]] = {
    "constant": {"value": (None, "any")},
    "categorical": {"values": (None, "list")},
    "categorical_w_probabilities": {"values": (None, "list"), "probabilities": (None, "probs")},
    "int_uniform": {"min": (None, _I), "max": (None, _I)},
    "uniform": {"min": (None, _F), "max": (None, _F)},
    "log_uniform": {"min": (None, _F), "max": (None, _F)},
    "log_uniform_values": {"min": (None, "positive"), "max": (None, _F)},
    "inv_log_uniform": {"min": (None, _F), "max": (None, _F)},
    "inv_log_uniform_values": {"min": (None, "positive"), "max": (None, _F)},
    "q_uniform": {"min": (None, _F), "max": (None, _F), "q": (1.0, "q")},
    "q_log_uniform": {"min": (None, _F), "max": (None, _F), "q": (1.0, "q")},
    "q_log_uniform_values": {"min": (None, "positive"), "max": (None, _F), "q": (1.0, "q")},
    "normal": {"mu": (0.0, _F), "sigma": (1.0, "sigma")},
    "q_normal": {"mu": (0, _F), "sigma": (1, "sigma"), "q": (1.0, "q")},
    "log_normal": {"mu": (0.0, _F), "sigma": (1.0, "sigma")},
    "q_log_normal": {"mu": (0, _F), "sigma": (1, "sigma"), "q": (1.0, "q")},
    "beta": {"a": (1, "shape"), "b": (1, "shape")},
    "q_beta": {"a": (1, "shape"), "b": (1, "shape"), "q": (1.0, "q")},
}
_LEGACY = {"log_uniform": "log_uniform_values", "q_log_uniform": "q_log_uniform_values", "inv_log_uniform": "inv_log_uniform_values"}  # fmt: skip
_DIST_HINTS = {"loguniform": "log_uniform_values", "choice": "categorical", "randint": "int_uniform", "lognormal": "log_normal"}  # fmt: skip
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# characters a study name may not hold (the native format refuses them; a W&B display name may hold them)
STUDY_NAME_BAD = re.compile(r"[\s*?\[\]/\\]")
STUDY_NAME_MAX = 200


def is_study_name(name: str) -> bool:
    return bool(name.strip()) and not STUDY_NAME_BAD.search(name) and len(name) <= STUDY_NAME_MAX


def study_name_from(display: str) -> str:
    """The study name for a W&B display name: the name itself when it is a valid study name (so existing
    studies keep resuming); otherwise each refused character becomes ``-``, runs of ``-`` collapse to one
    and the ends are stripped (``First Sweep`` -> ``First-Sweep``). Empty when nothing is left."""
    if is_study_name(display):
        return display
    name = re.sub(r"-{2,}", "-", STUDY_NAME_BAD.sub("-", display)).strip("-")
    return name[:STUDY_NAME_MAX].strip("-")


def program_problem(program: str, wd: str, command: Sequence[str]) -> str | None:
    """None when W&B's ``program`` is found: a file beside the sweep file or in the current folder, or,
    when the command runs it without ``${interpreter}``, an executable on PATH (a console script such as
    ``icu-benchmarks``). Otherwise the error, naming every place tried."""
    beside, here = os.path.join(wd, program), os.path.abspath(program)
    if os.path.isfile(beside) or os.path.isfile(here):
        return None
    tried = [f"{beside} (beside the sweep file)", f"{here} (the current folder)"]
    direct = "${interpreter}" not in command
    if direct:
        if shutil.which(program) is not None:
            return None
        tried.append(f"{program!r} on PATH")
    hint = (
        "check the name, or install the package that provides it"
        if direct
        else "a command that runs it with ${interpreter} needs a file; an executable on PATH is run "
        "without ${interpreter} (command: [${env}, ${program}, ${args}])"
    )
    return f"program {program!r} not found: tried {', '.join(tried)}; {hint}"


def infer_distribution(spec: dict[str, Any]) -> tuple[str | None, str]:
    """The first distribution of W&B's ``parameter.anyOf`` that ``spec`` (without ``distribution``) fits.

    Returns (distribution or None, why not).
    """
    keys = set(spec)
    if "parameters" in keys:
        return "parameters", ""
    if keys == {"values"}:
        return "categorical", ""
    if keys == {"values", "probabilities"}:
        return "categorical_w_probabilities", ""
    if keys == {"min", "max"}:
        lo, hi = spec["min"], spec["max"]
        if is_int(lo) and is_int(hi):
            return "int_uniform", ""
        if is_number(lo) and is_number(hi):
            return "uniform", ""  # at least one is a real float
        return None, "min and max must be numbers"
    if keys == {"value"}:
        return "constant", ""
    if "q" in keys and keys <= {"min", "max", "q"}:
        return None, "`q` needs an explicit `distribution: q_uniform` (or q_log_uniform_values)"
    if keys & {"mu", "sigma", "a", "b", "q"}:
        return None, "`distribution:` is required for mu/sigma/a/b/q (normal, log_normal, beta, q_...)"
    if "value" in keys or "values" in keys or "min" in keys or "max" in keys:
        extra = sorted(keys - {"value", "values", "min", "max", "probabilities"})
        if extra:
            return None, f"unknown key {extra[0]!r}{did_you_mean(extra[0], ['values', 'value', 'min', 'max', 'probabilities', 'distribution'])}"  # fmt: skip
        return None, "give `values`, `value`, or both `min` and `max`"
    first = sorted(keys)[0] if keys else None
    hint = f": unknown key {first!r}{did_you_mean(first, ['values', 'value', 'min', 'max', 'distribution', 'parameters'])}" if first else ""  # fmt: skip
    return (
        None,
        "cannot tell the distribution: give `distribution:`, or `values`, `value`, or `min` and `max`" + hint,
    )


def wandb_params(
    r: Report, raw: Any, path: Path, prefix: str = "", keypath: tuple[str, ...] = ()
) -> list[Param]:
    params: list[Param] = []
    if raw is None:
        r.error(path, "`parameters` is required: the search space, e.g. lr: {min: 0.0001, max: 0.1}")
        return params
    if not isinstance(raw, dict):
        r.error(path, "`parameters` must be a mapping of parameter names to their definitions")
        return params
    if not raw:
        r.error(path, "`parameters` is empty ({} should be non-empty): add at least one parameter")
    for name, spec in raw.items():
        p = (*path, str(name))
        if not isinstance(name, str) or not _NAME_RE.match(name):
            r.error(p, f"parameter name {name!r} does not match ^[A-Za-z_][A-Za-z0-9_.-]*$ (letters, digits, _ . -)", at_key=True)  # fmt: skip
            continue
        full = prefix + name
        kpath = (*keypath, name)
        if isinstance(spec, dict) and "parameters" in spec and "distribution" not in spec:
            extra = [k for k in spec if k != "parameters"]
            if extra:
                r.error(
                    (*p, str(extra[0])),
                    f"a nested parameter holds only `parameters`, not {extra[0]!r}",
                    at_key=True,
                )
            params.extend(wandb_params(r, spec["parameters"], (*p, "parameters"), full + ".", kpath))
            continue
        param = wandb_param(r, full, spec, p)
        if param is not None:
            if "." in name:
                param = _with_path(param, kpath)
            params.append(param)
    return params


def _with_path(param: Param, kpath: tuple[str, ...]) -> Param:
    return dataclasses.replace(param, path=kpath)


def wandb_param(r: Report, name: str, spec: Any, path: Path) -> Param | None:
    """One W&B parameter -> a ``Param`` (``args`` holds W&B's filled config, without ``distribution``)."""
    if not isinstance(spec, dict):
        r.error(
            path,
            f"parameter {name!r} must be a mapping such as {{values: [...]}}, {{value: x}} or {{min: 0, max: 1}}",
        )
        return None
    dist = spec.get("distribution")
    if dist is None:
        dist, why = infer_distribution(spec)
        if dist is None:
            r.error(path, f"invalid hyperparameter configuration: {name}: {why}")
            return None
    elif dist not in DISTRIBUTIONS:
        hint = did_you_mean(dist, DISTRIBUTIONS, _DIST_HINTS)
        r.error((*path, "distribution"), f"unknown distribution {dist!r}{hint or ' (see W&B: uniform, int_uniform, categorical, log_uniform_values, q_uniform, normal, ...)'}")  # fmt: skip
        return None
    table = DISTRIBUTIONS[dist]
    bad = False
    for key in spec:
        if key != "distribution" and key not in table:
            hint = did_you_mean(key, table)
            if key == "q":
                hint = " (`q` belongs to the q_ distributions, e.g. distribution: q_uniform)"
            r.error((*path, str(key)), f"unknown key {key!r} for {dist}{hint}", at_key=True)
            bad = True
    filled: dict[str, Any] = {}
    for key, (default, kind) in table.items():
        if key not in spec:
            if default is None:
                r.error((*path, key), f"{dist} needs `{key}`")
                bad = True
            else:
                filled[key] = default
            continue
        v = spec[key]
        if not _check_value(r, (*path, key), key, v, kind, dist):
            bad = True
        filled[key] = v
    if bad:
        return None
    return _build(r, name, dist, filled, path)


def _check_value(r: Report, path: Path, key: str, v: Any, kind: str, dist: str) -> bool:
    if kind == "any":
        problem = param_value_problem(v)
        if problem:
            r.error(path, problem)
            return False
        return True
    if kind == "list":
        if not isinstance(v, list) or not v:
            r.error(path, f"`{key}` must be a non-empty list")
            return False
        ok = True
        for i, item in enumerate(v):
            problem = param_value_problem(item)
            if problem:
                r.error((*path, i), problem)
                ok = False
        return ok
    if kind == "probs":
        if not isinstance(v, list) or not v or not all(is_number(x) and x >= 0 for x in v):
            r.error(path, "`probabilities` must be a non-empty list of numbers >= 0")
            return False
        return True
    if kind == _I:
        return r.number(v, path, integer=True) is not None
    minimum = {"positive": 0.0, "sigma": 0.0, "q": 0.0, "shape": 0.0}.get(kind)
    exclusive = kind in ("positive", "q", "shape")
    if r.number(v, path, minimum=minimum, exclusive=exclusive) is None:
        return False
    if not math.isfinite(v):
        r.error(path, f"`{key}` must be finite")
        return False
    return True


def _build(r: Report, name: str, dist: str, a: dict[str, Any], path: Path) -> Param | None:
    if dist == "constant":
        return Param(name, "constant", dist, value=a["value"], args=a)
    if dist == "categorical":
        return Param(name, "categorical", dist, values=tuple(a["values"]), args=a)
    if dist == "categorical_w_probabilities":
        values, probs = a["values"], a["probabilities"]
        if len(values) != len(probs):
            r.error((*path, "probabilities"), f"Parameter {name}: values {values} and probabilities {probs} are not the same length")  # fmt: skip
            return None
        if abs(sum(probs) - 1.0) > 1e-6:
            r.error((*path, "probabilities"), f"Parameter {name}: Probabilities {probs} do not sum to 1")
            return None
        ppf = QuantilePPF(dist, a, values=values, probabilities=probs)
        return Param(name, "quantile", dist, values=tuple(values), probabilities=tuple(float(p) for p in probs), ppf=ppf, args=a)  # fmt: skip
    if "min" in a:
        lo, hi = a["min"], a["max"]
        if not lo < hi:
            r.error((*path, "min"), f"{name}: min {lo} is not less than max {hi}")
            return None
        if not _range_ok(r, name, dist, a, path):
            return None
        if dist in _LEGACY:
            r.warn(
                (*path, "distribution"),
                f"{name} uses {dist}, where min/max specify base-e exponents. Use {_LEGACY[dist]} to specify limit "
                f"values (hypersweep keeps W&B's meaning: values from {_fmt(_value_bounds(dist, lo, hi)[0])} "
                f"to {_fmt(_value_bounds(dist, lo, hi)[1])})",
            )
        if dist == "int_uniform":
            return Param(name, "int", dist, low=int(lo), high=int(hi), args=a)
        if dist == "uniform":
            return Param(name, "float", dist, low=float(lo), high=float(hi), args=a)
        vlo, vhi = _value_bounds(dist, lo, hi)
        if dist in ("log_uniform", "log_uniform_values", "inv_log_uniform", "inv_log_uniform_values"):
            return Param(name, "float", dist, low=vlo, high=vhi, log=True, args=a)
        # q_uniform, q_log_uniform, q_log_uniform_values: bounded quantile parameters
        if not has_multiple_inside(vlo, vhi, a["q"]):
            r.warn(
                (*path, "q"),
                f"no multiple of q={a['q']} lies in [{_fmt(vlo)}, {_fmt(vhi)}]: values are not rounded",
            )
        ppf = QuantilePPF(dist, a, low=vlo, high=vhi)
        return Param(name, "quantile", dist, low=vlo, high=vhi, ppf=ppf, args=a)
    if not _spread_ok(r, name, dist, a, path):
        return None
    ppf = QuantilePPF(dist, a)  # normal, log_normal, beta and their q-forms
    return Param(name, "quantile", dist, ppf=ppf, args=a)


_MAX_STEPS = 2**53  # beyond it, multiples of q are no longer distinct floats
_Z = 7.5  # the inverse normal CDF at the sampler's extreme quantile (1 - 1e-12) is about 7.03


def _range_ok(r: Report, name: str, dist: str, a: dict[str, Any], path: Path) -> bool:
    """Bounds every search can sample in float arithmetic (a finite range, exponents, q's steps)."""
    lo, hi = float(a["min"]), float(a["max"])
    if not math.isfinite(hi - lo):
        r.error((*path, "max"), f"{name}: the range max - min overflows a float: narrow the bounds (max - min must stay below {sys.float_info.max:.3g})")  # fmt: skip
        return False
    if dist in _LEGACY:
        try:
            vlo, vhi = _value_bounds(dist, lo, hi)
        except OverflowError:
            vlo, vhi = 0.0, math.inf
        if vlo <= 0.0 or not math.isfinite(vhi):
            r.error((*path, "max"), f"{name}: {dist} takes natural-log exponents as min and max, and exp() of these bounds does not fit a float (exponents must lie in [-745, 709]); did you mean {_LEGACY[dist]}?")  # fmt: skip
            return False
    q = a.get("q")
    if q is not None:
        vlo, vhi = _value_bounds(dist, lo, hi)
        ratio = max(abs(vlo), abs(vhi)) / float(q)
        if not math.isfinite(ratio) or ratio > _MAX_STEPS:
            r.error((*path, "q"), f"{name}: q={q:g} is below the float precision of [{_fmt(vlo)}, {_fmt(vhi)}] (more than 2**53 multiples): use a larger q")  # fmt: skip
            return False
    return True


def _spread_ok(r: Report, name: str, dist: str, a: dict[str, Any], path: Path) -> bool:
    """normal/log_normal (and q-forms): every sampled value must be a finite float."""
    if "mu" not in a:
        return True
    mu, sigma = float(a["mu"]), float(a["sigma"])
    top = abs(mu) + _Z * sigma
    if not math.isfinite(top) or ("log" in dist and mu + _Z * sigma > 709.0):
        what = "exp(mu + 7.5 sigma)" if "log" in dist else "mu + 7.5 sigma"
        r.error((*path, "sigma"), f"{name}: {what} overflows a float, so samples would be infinite: use a smaller mu or sigma")  # fmt: skip
        return False
    q = a.get("q")
    if q is not None:
        ratio = (math.exp(mu + _Z * sigma) if "log" in dist else top) / float(q)
        if not math.isfinite(ratio) or ratio > _MAX_STEPS:
            r.error((*path, "q"), f"{name}: q={q:g} is below the float precision of the values sampled (more than 2**53 multiples): use a larger q")  # fmt: skip
            return False
    return True


def _value_bounds(dist: str, lo: float, hi: float) -> tuple[float, float]:
    if dist in ("log_uniform", "q_log_uniform"):
        return math.exp(lo), math.exp(hi)
    if dist == "inv_log_uniform":
        return math.exp(-hi), math.exp(-lo)
    return float(lo), float(hi)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def parse_wandb(r: Report, data: dict[str, Any], block_from_file: bool) -> dict[str, Any]:
    """Validate a W&B document; returns the parts :mod:`_load` assembles into a ``SweepSpec``."""
    allowed = (*WANDB_TOP_KEYS, "hypersweep")
    r.unknown_keys(
        data, (), allowed, {"objective": "metric", "strategy": "method", "early_stopping": "early_terminate"}
    )
    metadata: dict[str, Any] = {}
    for key in _NO_EFFECT:
        if key in data:
            metadata[key] = data[key]
            r.warn((key,), f"`{key}` is kept as metadata but has no effect in hypersweep", at_key=True)
    if "controller" in data:
        c = r.mapping(data["controller"], ("controller",), "controller")
        if c is not None:
            if "type" not in c:
                r.error(("controller", "type"), "controller needs `type`: local or cloud")
            else:
                r.string(c["type"], ("controller", "type"), choices=("local", "cloud"))
    if "kind" in data:
        r.string(data["kind"], ("kind",), choices=("sweep",))
    for key in ("apiVersion", "job", "image_uri", "entity", "project"):
        r.string(data.get(key), (key,))

    method = data.get("method")
    strategy_name: str | None = None
    if method == "custom":
        r.error(("method",), "method: custom is not supported (hypersweep runs grid, random and bayes)")
    elif method == "bayes":
        strategy_name = "bayes"  # resolved below
    elif method in ("grid", "random"):
        strategy_name = method
    else:
        hint = did_you_mean(method, ("grid", "random", "bayes"))
        r.error(("method",), f"method must be grid, random or bayes, not {method!r}{hint}")

    objective, metadata_metric = _metric(r, data.get("metric"))
    metadata.update(metadata_metric)
    objectives = _metrics(r, data.get("metrics"))
    if "metric" in data and "metrics" in data:
        r.error(
            ("metrics",),
            "give either `metric:` (one metric) or `metrics:` (several), not both: move the metric into the list",
            at_key=True,
        )
    elif objectives is not None:
        objective = objectives[0]
    if method == "bayes" and objective is None and "metric" not in data and "metrics" not in data:
        r.error(("method",), "method: bayes needs a `metric` to optimise: add metric: {name: ..., goal: ...}")

    run_cap = data.get("run_cap")
    if run_cap is not None:
        run_cap = r.number(run_cap, ("run_cap",), minimum=0, exclusive=True, integer=True, maximum=MAX_TRIALS)
    program = r.string(data.get("program"), ("program",))
    command = parse_command_list(r, data.get("command"), ("command",))
    if command is not None:  # W&B passes items verbatim: escape braces so templates see them as text
        command = tuple(escape_braces(c) for c in command)
    early = _early_terminate(r, data.get("early_terminate"))
    params = wandb_params(r, data.get("parameters"), ("parameters",))
    _check_collisions(r, params)

    # the `hypersweep:` block: native keys W&B cannot carry; it wins over the W&B keys
    block = r.mapping(data.get("hypersweep"), ("hypersweep",), "hypersweep") or {}
    if block and block_from_file:
        r.warn(("hypersweep",), "W&B itself would reject this file (`hypersweep:` is not a W&B key); hypersweep reads it", at_key=True)  # fmt: skip
    r.unknown_keys(block, ("hypersweep",), HYPERSWEEP_BLOCK_KEYS)
    hb: Path = ("hypersweep",)
    requested: str | None = None
    notice: str | None = None
    if method == "bayes":  # W&B's bayes is a Gaussian process: gp, or tpe without torch (docs/wandb.md)
        raw_block = block.get("strategy")
        given = [k for k in raw_block if k != "name"] if isinstance(raw_block, dict) else []
        strategy_name, notice = bayes_strategy(given)
        requested = "bayes"
        if notice is not None:
            r.warn(("method",), notice)
    strategy = StrategyConfig(strategy_name or "random", {}, requested=requested, reason=notice)
    if "strategy" in block and strategy_name is not None:
        raw = block["strategy"]
        if isinstance(raw, dict) and "name" not in raw:
            raw = {"name": strategy_name, **raw}
        strategy = parse_strategy(r, raw, (*hb, "strategy"), objective is not None)
        if requested is not None and isinstance(block["strategy"], dict) and "name" not in block["strategy"]:
            strategy = dataclasses.replace(strategy, requested=requested, reason=notice)
    budget = parse_budget(r, block.get("budget"), (*hb, "budget"))
    if budget.trials is None and run_cap is not None:
        budget = dataclasses.replace(budget, trials=int(run_cap))
    trial = parse_trial(r, block.get("trial"), (*hb, "trial"), wandb_default="capture")
    block_cmd = trial.command is not None
    trial = dataclasses.replace(trial, program=program, command=trial.command or command)
    if trial.function is None and trial.command is None:
        if program is not None:
            trial = dataclasses.replace(trial, command=("${env}", "${interpreter}", "${program}", "${args}"))
        elif not any(v.path.startswith("hypersweep.trial") for v in r.errors):
            r.error(
                ("program",),
                "a W&B file needs `program` or `command` (or run with --set trial.function=module:function)",
            )
    if (
        trial.function is not None
        and trial.command is not None
        and (command is not None or program is not None)
    ):
        trial = dataclasses.replace(trial, command=None)  # an explicit function wins over W&B's program
    if "early_stopping" in block:
        early = parse_early_stopping(r, block["early_stopping"], (*hb, "early_stopping"))
    if objectives is not None and len(objectives) > 1:
        es_path: Path = (*hb, "early_stopping") if "early_stopping" in block else ("early_terminate",)
        refuse_pruning(r, early, es_path, "metrics")
    return {
        "format": "wandb",
        "name": r.string(data.get("name"), ("name",)),
        "description": r.string(data.get("description"), ("description",)),
        "objective": objective,
        "objectives": objectives,
        "strategy": strategy,
        "seed": parse_seed(r, block.get("seed"), (*hb, "seed")),
        "budget": budget,
        "trial": trial,
        "resources": parse_resources(r, block.get("resources"), (*hb, "resources")),
        "early_stopping": early,
        "constraints": parse_constraints(r, block.get("constraints"), (*hb, "constraints")),
        "parameters": params,
        "enqueue_raw": (block.get("enqueue"), (*hb, "enqueue")),
        "monitoring": parse_monitoring(r, block.get("monitoring"), (*hb, "monitoring")),
        "artifacts": parse_artifacts(r, block.get("artifacts"), (*hb, "artifacts")),
        "metadata": metadata,
        "command_path": (*hb, "trial", "command") if block_cmd else ("command",),
    }


def _metric(r: Report, raw: Any) -> tuple[Objective | None, dict[str, Any]]:
    meta: dict[str, Any] = {}
    if raw is None:
        return None, meta
    if not isinstance(raw, dict):
        r.error(("metric",), f"{raw!r} is not of type 'object': write metric: {{name: ..., goal: minimize}}")
        return None, meta
    keys = ("name", "goal", "target", "impute", "impute_while_running")
    r.unknown_keys(raw, ("metric",), keys, {"metric": "name", "direction": "goal"})
    name = r.string(raw.get("name"), ("metric", "name"))
    if "name" not in raw:
        r.error(("metric", "name"), "metric needs `name`")
    goal = raw.get("goal", "minimize")
    if goal not in ("minimize", "maximize"):
        r.warn(("metric", "goal"), f"{goal!r} is not one of 'minimize', 'maximize'{did_you_mean(goal, ('minimize', 'maximize'))}: W&B silently minimizes, and so does hypersweep")  # fmt: skip
        goal = "minimize"
    target = r.number(raw.get("target"), ("metric", "target"))
    for key in ("impute", "impute_while_running"):
        if key in raw:
            meta[f"metric.{key}"] = raw[key]
            r.warn(
                ("metric", key),
                f"metric.{key} is kept as metadata but has no effect in hypersweep",
                at_key=True,
            )
    if not name:
        return None, meta
    return Objective(name, Direction(goal), None if target is None else float(target)), meta


def _metrics(r: Report, raw: Any) -> tuple[Objective, ...] | None:
    """W&B's ``metrics:`` list: ``[{name: acc, goal: maximize}, {name: latency_ms, goal: minimize}]``."""
    if raw is None:
        return None
    path: Path = ("metrics",)
    if not isinstance(raw, list) or not raw:
        r.error(path, "metrics must be a non-empty list such as [{name: acc, goal: maximize}, {name: loss}]")
        return None
    out: list[Objective] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        p = (*path, i)
        if not isinstance(item, dict):
            r.error(p, f"{item!r} is not of type 'object': write {{name: ..., goal: minimize}}")
            continue
        if "target" in item:
            r.error((*p, "target"), "`target` is for one metric only: drop it, or use a single `metric:`", at_key=True)  # fmt: skip
        r.unknown_keys({k: v for k, v in item.items() if k != "target"}, p, ("name", "goal"), {"metric": "name", "direction": "goal"})  # fmt: skip
        name = r.string(item.get("name"), (*p, "name"))
        if "name" not in item:
            r.error((*p, "name"), "each metrics item needs `name`")
        goal = item.get("goal", "minimize")
        if goal not in ("minimize", "maximize"):
            r.error((*p, "goal"), f"goal must be minimize or maximize, not {goal!r}{did_you_mean(goal, ('minimize', 'maximize'))}")  # fmt: skip
            continue
        if not name:
            continue
        if name in seen:
            r.error((*p, "name"), f"metric {name!r} is listed twice in metrics")
            continue
        seen.add(name)
        out.append(Objective(name, Direction(goal)))
    return tuple(out) if len(out) == len(raw) else None


def _early_terminate(r: Report, raw: Any) -> EarlyStopping:
    if raw is None:
        return EarlyStopping()
    path: Path = ("early_terminate",)
    if not isinstance(raw, dict):
        r.error(path, f"{raw!r} is not valid: write early_terminate: {{type: hyperband, min_iter: 3}}")
        return EarlyStopping()
    r.unknown_keys(raw, path, ("type", "min_iter", "max_iter", "s", "eta", "strict"))
    kind = raw.get("type")
    if kind != "hyperband":
        r.error((*path, "type"), f"early_terminate type must be hyperband, not {kind!r}")
        return EarlyStopping()
    min_iter = r.number(raw.get("min_iter"), (*path, "min_iter"), minimum=1, integer=True)
    max_iter = r.number(raw.get("max_iter"), (*path, "max_iter"), integer=True)
    s = r.number(raw.get("s"), (*path, "s"))
    eta = r.number(raw.get("eta"), (*path, "eta"), minimum=1, exclusive=True)
    strict = r.boolean(raw.get("strict"), (*path, "strict"))
    if "min_iter" not in raw and not ("max_iter" in raw and "s" in raw):
        r.error(path, "hyperband needs `min_iter`, or both `max_iter` and `s`")
        return EarlyStopping()
    options: dict[str, Any] = {"resource": "reports", "reduction_factor": eta if eta is not None else 3}
    if min_iter is not None:
        options["min_resource"] = int(min_iter)
    if max_iter is not None:
        options["max_resource"] = int(max_iter)
    if s is not None:
        options["s"] = s
    if strict is not None:
        options["strict"] = strict
    return EarlyStopping("hyperband", options)


def _check_collisions(r: Report, params: list[Param]) -> None:
    seen: set[str] = set()
    for p in params:
        if p.name in seen:
            r.error(
                ("parameters",),
                f"parameter name {p.name!r} is defined twice (a dotted name and a nested one)",
            )
        seen.add(p.name)
