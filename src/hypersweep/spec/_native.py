"""The native grammar: parameters (with ``when`` conditions) and the top-level sections."""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from typing import Any

from hypersweep.spec._check import Report, did_you_mean, is_int, is_number, param_value_problem
from hypersweep.spec._constraints import parse_constraints
from hypersweep.spec._sections import (
    parse_artifacts,
    parse_budget,
    parse_early_stopping,
    parse_monitoring,
    parse_objective,
    parse_objectives,
    parse_resources,
    parse_seed,
    parse_strategy,
    parse_trial,
    refuse_pruning,
)
from hypersweep.spec._space import Param
from hypersweep.spec._yaml import Path

__all__ = ["NATIVE_TOP_KEYS", "freeze", "parse_native", "parse_native_params", "resolve_when"]

NATIVE_TOP_KEYS = (
    "name",
    "description",
    "objective",
    "objectives",
    "strategy",
    "seed",
    "budget",
    "trial",
    "resources",
    "early_stopping",
    "parameters",
    "enqueue",
    "monitoring",
    "artifacts",
    "constraints",
)
_TOP_HINTS = {
    "metric": "objective",
    "method": "strategy",
    "params": "parameters",
    "early_terminate": "early_stopping",
}
NATIVE_TYPES = ("float", "int", "categorical", "constant")
_PARAM_KEYS = {
    "float": ("type", "low", "high", "log", "step", "when"),
    "int": ("type", "low", "high", "log", "step", "when"),
    "categorical": ("type", "values", "when"),
    "constant": ("type", "value", "when"),
}
_PARAM_HINTS = {"min": "low", "max": "high", "distribution": "type", "choices": "values", "q": "step"}
_TYPE_HINTS = {
    "uniform": "float",
    "log_uniform_values": "float",
    "log_uniform": "float",
    "int_uniform": "int",
    "integer": "int",
    "choice": "categorical",
    "str": "categorical",
    "fixed": "constant",
}
MAX_STEPS = 2**53  # beyond it, low + k*step are no longer distinct floats
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def freeze(value: Any) -> Any:
    """A hashable, type-aware key for a YAML value (1, 1.0 and True stay distinct)."""
    if isinstance(value, list | tuple):
        return ("list", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def parse_native_params(r: Report, raw: Any, path: Path) -> tuple[list[Param], dict[str, Any]]:
    """Parameters and their raw ``when`` blocks (resolved by :func:`resolve_when` once all are known)."""
    params: list[Param] = []
    whens: dict[str, Any] = {}
    if raw is None:
        r.error(
            path, "`parameters` is required: the search space, e.g. lr: {type: float, low: 1.0e-4, high: 0.1}"
        )
        return params, whens
    if not isinstance(raw, dict):
        r.error(path, "`parameters` must be a mapping of parameter names to their definitions")
        return params, whens
    if not raw:
        r.error(path, "`parameters` is empty: add at least one parameter")
    for name, spec in raw.items():
        p = (*path, str(name))
        if not isinstance(name, str) or not _IDENT_RE.match(name):
            hint = " (native parameters are flat: no dots)" if isinstance(name, str) and "." in name else ""
            r.error(
                p, f"parameter name {name!r} is not an identifier (letters, digits, _){hint}", at_key=True
            )
            continue
        param = _native_param(r, name, spec, p)
        if param is not None:
            params.append(param)
            if isinstance(spec, dict) and "when" in spec:
                whens[name] = spec["when"]
    return params, whens


def _native_param(r: Report, name: str, spec: Any, path: Path) -> Param | None:
    if not isinstance(spec, dict):
        r.error(
            path,
            f"parameter {name!r} must be a mapping such as {{type: float, low: 0.0, high: 1.0}}, "
            f"{{type: categorical, values: [a, b]}} or {{value: {spec!r}}}",
        )
        return None
    kind = spec.get("type")
    if kind is None:
        if "value" in spec:
            kind = "constant"
        elif "values" in spec:
            kind = "categorical"
        else:
            r.error(
                (*path, "type"),
                f"parameter {name!r} needs `type`: float, int, categorical (or `value:` for a constant)",
            )
            return None
    elif kind not in NATIVE_TYPES:
        hint = did_you_mean(kind, NATIVE_TYPES, _TYPE_HINTS)
        wb = " (W&B distributions need a W&B file, with a top-level `method:`)" if kind in _TYPE_HINTS else ""
        r.error(
            (*path, "type"),
            f"unknown parameter type {kind!r}{hint or ' (expected float, int, categorical or constant)'}{wb}",
        )
        return None
    r.unknown_keys(spec, path, _PARAM_KEYS[kind], _PARAM_HINTS)
    if kind == "constant":
        if "value" not in spec:
            r.error((*path, "value"), "a constant needs `value`")
            return None
        problem = param_value_problem(spec["value"])
        if problem:
            r.error((*path, "value"), problem)
            return None
        return Param(name, "constant", "constant", value=spec["value"], args={"value": spec["value"]})
    if kind == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            r.error((*path, "values"), "a categorical parameter needs `values`: a non-empty list")
            return None
        seen: set[Any] = set()
        bad = False
        for i, v in enumerate(values):
            problem = param_value_problem(v)
            if problem:
                r.error((*path, "values", i), problem)
                bad = True
            elif freeze(v) in seen:
                r.warn((*path, "values", i), f"value {v!r} is listed twice")
            seen.add(freeze(v))
        if bad:
            return None
        return Param(name, "categorical", "categorical", values=tuple(values), args={"values": list(values)})
    return _numeric(r, name, kind, spec, path)


def _numeric(r: Report, name: str, kind: str, spec: dict[str, Any], path: Path) -> Param | None:
    integer = kind == "int"
    ok = True
    bounds: dict[str, Any] = {}
    for key in ("low", "high"):
        if key not in spec:
            r.error((*path, key), f"a {kind} parameter needs `{key}`")
            ok = False
            continue
        v = r.number(spec[key], (*path, key), integer=integer)
        if v is None:
            ok = False
        elif not math.isfinite(v):
            r.error((*path, key), f"{key} must be finite")
            ok = False
        bounds[key] = v
    log = r.boolean(spec.get("log"), (*path, "log")) or False
    step = None
    if "step" in spec:
        step = r.number(spec["step"], (*path, "step"), minimum=0, exclusive=True, integer=integer)
        if step is None:
            ok = False
    if not ok:
        return None
    low, high = bounds["low"], bounds["high"]
    if integer and low > high:
        r.error((*path, "low"), f"low {low} is above high {high} (int bounds are inclusive: low <= high)")
        return None
    if not integer and low >= high:
        r.error(
            (*path, "low"),
            f"low {low} is not below high {high}: swap them (or use {{value: ...}} for a constant)",
        )
        return None
    if log and low <= 0:
        r.error((*path, "low"), f"log scale needs low > 0, not {low} (log of {low} is undefined)")
        return None
    if log and step is not None:
        r.error((*path, "step"), "`step` cannot be combined with `log: true`: drop one of them")
        return None
    if not integer and not math.isfinite(high - low):
        r.error(
            (*path, "high"),
            f"the range high - low overflows a float ({float(high) - float(low):g}): no search can sample it; "
            f"narrow the bounds (high - low must stay below {sys.float_info.max:.3g})",
        )
        return None
    if step is not None and not integer and (high - low) / step > MAX_STEPS:
        r.error(
            (*path, "step"),
            f"step {step:g} is below the float precision of [{low:g}, {high:g}] (more than 2**53 steps): "
            "use a larger step, or drop step for a continuous range",
        )
        return None
    if step is not None and step > high - low and high > low:
        r.warn((*path, "step"), f"step {step} is larger than high - low: the only point is {low}")
    elif step is not None and not integer and not _on_step(low, high, step):
        last = low + math.floor((high - low) / step + 1e-9) * step
        r.warn(
            (*path, "high"),
            f"high {high} is not on the step from low: the largest point is {float(f'{last:.12g}')}",
        )
    args: dict[str, Any] = {"low": low, "high": high}
    if log:
        args["log"] = True
    if step is not None:
        args["step"] = step
    if integer:
        return Param(name, "int", "int", low=int(low), high=int(high), log=log, step=step, args=args)
    return Param(name, "float", "float", low=float(low), high=float(high), log=log,
                 step=float(step) if step is not None else None, args=args)  # fmt: skip


def _on_step(low: float, high: float, step: float) -> bool:
    k = (high - low) / step
    return abs(k - round(k)) < 1e-9 * max(1.0, abs(k))


def resolve_when(r: Report, params: list[Param], whens: dict[str, Any], path: Path) -> list[Param]:
    """Check each ``when`` block against the parameters declared above it and attach it."""
    index = {p.name: i for i, p in enumerate(params)}
    out = list(params)
    for name, raw in whens.items():
        i = index[name]
        wpath = (*path, name, "when")
        if not isinstance(raw, dict) or not raw:
            r.error(
                wpath,
                "`when` must be a mapping of parameter -> value (or list of values), e.g. {kernel: poly}",
            )
            continue
        conds: list[tuple[str, tuple[Any, ...]]] = []
        for other, allowed in raw.items():
            cpath = (*wpath, str(other))
            if other == name:
                r.error(cpath, f"parameter {name!r} cannot depend on itself", at_key=True)
                continue
            if other not in index:
                hint = did_you_mean(other, list(index))
                r.error(cpath, f"`when` names {other!r}, which is not a parameter{hint}", at_key=True)
                continue
            target = params[index[other]]
            if index[other] > i:
                r.error(
                    cpath,
                    f"`when` names {other!r}, declared below {name!r}: move {name!r} below it",
                    at_key=True,
                )
                continue
            if target.kind not in ("categorical", "constant"):
                r.error(cpath, f"`when` can only name categorical or constant parameters; {other!r} is {target.kind}", at_key=True)  # fmt: skip
                continue
            choices = target.values if target.kind == "categorical" else (target.value,)
            wanted = tuple(allowed) if isinstance(allowed, list) else (allowed,)
            keys = {freeze(c) for c in choices}
            good = True
            for w in wanted:
                if freeze(w) not in keys and w not in choices:
                    shown = ", ".join(repr(c) for c in choices)
                    r.error(cpath, f"{w!r} is not a value of {other!r} (its values: {shown})")
                    good = False
            if good:
                conds.append((other, wanted))
        if conds:
            out[i] = dataclasses.replace(out[i], when=tuple(conds))
    return out


def parse_native(r: Report, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a native document; returns the parts :mod:`_load` assembles into a ``SweepSpec``."""
    r.unknown_keys(data, (), NATIVE_TOP_KEYS, _TOP_HINTS)
    name = r.string(data.get("name"), ("name",))
    description = r.string(data.get("description"), ("description",))
    objective = parse_objective(r, data.get("objective"), ("objective",))
    objectives = parse_objectives(r, data.get("objectives"), ("objectives",))
    if data.get("objective") is not None and data.get("objectives") is not None:
        r.error(
            ("objectives",),
            "give either `objective:` (one metric) or `objectives:` (several), not both: "
            "move the objective into the objectives list",
            at_key=True,
        )
    elif objectives is not None:
        objective = objectives[0]
    has_objective = objective is not None or any(data.get(k) is not None for k in ("objective", "objectives"))
    early_stopping = parse_early_stopping(r, data.get("early_stopping"), ("early_stopping",))
    if objectives is not None and len(objectives) > 1:
        refuse_pruning(r, early_stopping, ("early_stopping",), "objectives")
    strategy = parse_strategy(r, data.get("strategy"), ("strategy",), has_objective)
    params, whens = parse_native_params(r, data.get("parameters"), ("parameters",))
    params = resolve_when(r, params, whens, ("parameters",))
    trial = parse_trial(r, data.get("trial"), ("trial",), wandb_default="off")
    if trial.function is None and trial.command is None and not _has_trial_error(r):
        r.error(
            ("trial",), "the sweep needs `trial.function` (module:function) or `trial.command` (an argv list)"
        )
    return {
        "format": "native",
        "name": name,
        "description": description,
        "objective": objective,
        "objectives": objectives,
        "strategy": strategy,
        "seed": parse_seed(r, data.get("seed"), ("seed",)),
        "budget": parse_budget(r, data.get("budget"), ("budget",)),
        "trial": trial,
        "resources": parse_resources(r, data.get("resources"), ("resources",)),
        "early_stopping": early_stopping,
        "constraints": parse_constraints(r, data.get("constraints"), ("constraints",)),
        "parameters": params,
        "enqueue_raw": (data.get("enqueue"), ("enqueue",)),
        "monitoring": parse_monitoring(r, data.get("monitoring"), ("monitoring",)),
        "artifacts": parse_artifacts(r, data.get("artifacts"), ("artifacts",)),
        "metadata": {},
        "command_path": ("trial", "command"),
    }


def _has_trial_error(r: Report) -> bool:
    return any(v.path.startswith("trial.function") or v.path.startswith("trial.command") for v in r.errors)


def is_identifier(name: Any) -> bool:
    return isinstance(name, str) and bool(_IDENT_RE.match(name))


def int_like(v: Any) -> bool:
    return is_int(v) or (is_number(v) and float(v).is_integer())
