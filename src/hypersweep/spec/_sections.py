"""Validators for the native sections shared by native files and a W&B file's ``hypersweep:`` block."""

from __future__ import annotations

import re
from typing import Any

from hypersweep.records import Direction
from hypersweep.spec._check import MAX_SEED, MAX_TRIALS, Report, is_int, is_number
from hypersweep.spec._model import Budget, EarlyStopping, Objective, Resources, TrialConfig
from hypersweep.spec._strategy import STRATEGY_OPTIONS, add_strategy_name, parse_strategy
from hypersweep.spec._yaml import Path

__all__ = [
    "EARLY_STOPPING_OPTIONS",
    "STRATEGY_OPTIONS",
    "add_strategy_name",
    "parse_artifacts",
    "parse_budget",
    "parse_early_stopping",
    "parse_monitoring",
    "parse_objective",
    "parse_objectives",
    "parse_resources",
    "parse_seed",
    "parse_strategy",
    "parse_trial",
    "refuse_pruning",
]

EARLY_STOPPING_OPTIONS: dict[str, tuple[str, ...]] = {
    "none": (),
    "median": ("warmup_steps", "startup_trials"),
    "asha": ("min_resource", "max_resource", "reduction_factor"),
    "hyperband": ("min_resource", "max_resource", "reduction_factor"),
}
TRIAL_KEYS = ("function", "command", "timeout", "env", "wandb", "data")
_FUNCTION_RE = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_objective(r: Report, raw: Any, path: Path) -> Objective | None:
    m = r.mapping(raw, path, "objective")
    if m is None:
        return None
    r.unknown_keys(m, path, ("metric", "goal", "target"), {"name": "metric", "direction": "goal"})
    metric = r.string(m.get("metric"), (*path, "metric"))
    if "metric" not in m:
        r.error((*path, "metric"), "objective needs `metric`: the name of the metric to optimise")
    elif metric == "":
        r.error((*path, "metric"), "metric name is empty")
    goal = r.string(m.get("goal"), (*path, "goal"), choices=("minimize", "maximize"))
    if "goal" not in m and metric:
        r.warn(
            (*path, "goal"), f"no `goal` given: minimizing {metric!r} (write goal: maximize to maximize it)"
        )
    target = r.number(m.get("target"), (*path, "target"))
    if not metric:
        return None
    return Objective(metric, Direction(goal or "minimize"), None if target is None else float(target))


def parse_objectives(r: Report, raw: Any, path: Path) -> tuple[Objective, ...] | None:
    """The ``objectives`` list: ``[{metric: acc, goal: maximize}, {metric: latency_ms, goal: minimize}]``."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        r.error(
            path,
            "objectives must be a non-empty list such as "
            "[{metric: acc, goal: maximize}, {metric: latency_ms, goal: minimize}]",
        )
        return None
    out: list[Objective] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        p = (*path, i)
        if isinstance(item, dict) and "target" in item:
            r.error(
                (*p, "target"),
                "`target` is for one objective only: drop it, or use a single `objective:` with a target",
                at_key=True,
            )
            item = {k: v for k, v in item.items() if k != "target"}
        o = parse_objective(r, item, p)
        if o is None:
            continue
        if o.metric in seen:
            r.error((*p, "metric"), f"metric {o.metric!r} is listed twice in objectives")
            continue
        seen.add(o.metric)
        out.append(o)
    return tuple(out) if len(out) == len(raw) else None


def refuse_pruning(r: Report, early_stopping: Any, path: Path, key: str) -> None:
    """Early stopping with several objectives is an error: Optuna's pruners are single-objective."""
    if getattr(early_stopping, "type", "none") != "none":
        r.error(
            path,
            f"early stopping needs one objective (Optuna's pruning is single-objective), and `{key}` lists "
            f"several: remove {'.'.join(str(x) for x in path)}, or optimise one metric",
            at_key=True,
        )


def _string_list(r: Report, value: Any, path: Path, what: str, items: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        r.error(path, f"{what} must be a list of {items}")
        return None
    return list(value)


def parse_seed(r: Report, raw: Any, path: Path) -> int | None:
    v = r.number(raw, path, minimum=0, maximum=MAX_SEED, integer=True)
    return int(v) if v is not None else None


def parse_budget(r: Report, raw: Any, path: Path, allowed: tuple[str, ...] | None = None) -> Budget:
    m = r.mapping(raw, path, "budget") or {}
    keys = allowed or ("trials", "parallel", "max_failures", "retries", "timeout", "patience")
    r.unknown_keys(m, path, keys, {"n_trials": "trials", "max_trials": "trials", "timeout_s": "timeout"})
    trials = r.number(m.get("trials"), (*path, "trials"), maximum=MAX_TRIALS, minimum=1, integer=True)
    parallel = r.number(m.get("parallel"), (*path, "parallel"), maximum=MAX_TRIALS, minimum=1, integer=True)
    max_failures = r.number(
        m.get("max_failures"), (*path, "max_failures"), maximum=MAX_TRIALS, minimum=0, integer=True
    )
    retries = r.number(m.get("retries"), (*path, "retries"), maximum=MAX_TRIALS, minimum=0, integer=True)
    timeout = r.duration(m.get("timeout"), (*path, "timeout"))
    patience = r.number(m.get("patience"), (*path, "patience"), maximum=MAX_TRIALS, minimum=1, integer=True)
    return Budget(
        trials=int(trials) if trials is not None else None,
        parallel=int(parallel) if parallel is not None else None,
        max_failures=int(max_failures) if max_failures is not None else None,
        retries=int(retries or 0),
        timeout_s=timeout,
        patience=int(patience) if patience is not None else None,
    )


def parse_trial(r: Report, raw: Any, path: Path, *, wandb_default: str) -> TrialConfig:
    m = r.mapping(raw, path, "trial") or {}
    r.unknown_keys(
        m, path, TRIAL_KEYS, {"fn": "function", "cmd": "command", "argv": "command", "environment": "env"}
    )
    function = r.string(m.get("function"), (*path, "function"))
    if function is not None and not _FUNCTION_RE.match(function):
        r.error((*path, "function"), f"{function!r} is not module:function (e.g. digits:train_svc)")
        function = None
    command = parse_command_list(r, m.get("command"), (*path, "command"))
    if function is not None and command is not None:
        r.error((*path, "command"), "give either trial.function or trial.command, not both")
    env: dict[str, str] = {}
    env_raw = r.mapping(m.get("env"), (*path, "env"), "trial.env") or {}
    for key, value in env_raw.items():
        p = (*path, "env", str(key))
        if not isinstance(key, str) or not _ENV_RE.match(key):
            r.error(p, f"{key!r} is not a valid environment variable name", at_key=True)
        elif isinstance(value, str) or is_number(value):
            env[key] = str(value)
        else:
            r.error(
                p, f'environment values must be strings or numbers, not {value!r} (quote it: {key}: "...")'
            )
    wandb_raw = m.get("wandb")
    if isinstance(wandb_raw, bool):  # YAML 1.1 reads a bare `off` as false
        wandb_raw = "capture" if wandb_raw else "off"
    wandb = r.string(wandb_raw, (*path, "wandb"), choices=("capture", "off"))
    data = _string_list(r, m.get("data"), (*path, "data"), "trial.data", "paths")
    return TrialConfig(
        function=function,
        command=command,
        timeout_s=r.duration(m.get("timeout"), (*path, "timeout")),
        env=env,
        wandb=(wandb or wandb_default),  # type: ignore[arg-type]
        data=tuple(data or ()),
    )


def parse_command_list(r: Report, raw: Any, path: Path) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        r.error(path, f"command must be a list (argv, never a shell line), e.g. {raw.split()!r}")
        return None
    if not isinstance(raw, list) or not raw:
        r.error(path, 'command must be a non-empty list of arguments, e.g. [python, train.py, "--lr={lr}"]')
        return None
    out: list[str] = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            out.append(item)
        elif is_number(item) or isinstance(item, bool):
            out.append(str(item))
        else:
            r.error((*path, i), f"command items must be strings, not {item!r}")
    return tuple(out)


def parse_resources(r: Report, raw: Any, path: Path) -> Resources:
    m = r.mapping(raw, path, "resources") or {}
    r.unknown_keys(
        m,
        path,
        ("cpus", "gpus", "accelerator_type", "custom"),
        {"cpu": "cpus", "gpu": "gpus", "num_gpus": "gpus"},
    )
    cpus = r.number(m.get("cpus"), (*path, "cpus"), minimum=0)
    gpus = r.number(m.get("gpus"), (*path, "gpus"), minimum=0)
    accel = r.string(m.get("accelerator_type"), (*path, "accelerator_type"))
    custom: dict[str, float] = {}
    for key, value in (r.mapping(m.get("custom"), (*path, "custom"), "resources.custom") or {}).items():
        v = r.number(value, (*path, "custom", str(key)), minimum=0)
        if v is not None:
            custom[str(key)] = float(v)
    if gpus is not None and gpus > 1 and not float(gpus).is_integer():
        r.error((*path, "gpus"), f"a fractional GPU request must be below 1, not {gpus}")
    return Resources(
        cpus=float(cpus) if cpus is not None else 1.0,
        gpus=float(gpus) if gpus is not None else 0.0,
        accelerator_type=accel,
        custom=custom,
    )


def parse_early_stopping(r: Report, raw: Any, path: Path) -> EarlyStopping:
    if raw is None:
        return EarlyStopping()
    if isinstance(raw, str):
        raw = {"type": raw}
    m = r.mapping(raw, path, "early_stopping")
    if m is None:
        return EarlyStopping()
    kind = m.get("type")
    if kind is None:
        r.error((*path, "type"), "early_stopping needs `type`: median, asha, hyperband or none")
        return EarlyStopping()
    kind = r.string(kind, (*path, "type"), choices=tuple(EARLY_STOPPING_OPTIONS))
    if kind is None:
        return EarlyStopping()
    allowed = EARLY_STOPPING_OPTIONS[kind]
    options: dict[str, Any] = {}
    for key, value in m.items():
        if key == "type":
            continue
        p = (*path, str(key))
        if key not in allowed:
            others = [t for t, keys in EARLY_STOPPING_OPTIONS.items() if key in keys]
            if others:
                r.error(
                    p, f"{key!r} does not apply to {kind} (it applies to {', '.join(others)})", at_key=True
                )
            else:
                r.unknown_keys({key: value}, path, allowed or ("type",), what=f"{kind} option")
            continue
        if key == "max_resource" and value == "auto":
            options[key] = value
            continue
        minimum = {
            "warmup_steps": 0,
            "startup_trials": 0,
            "min_resource": 1,
            "max_resource": 1,
            "reduction_factor": 2,
        }
        v = r.number(value, p, minimum=minimum[key], integer=True)
        if v is not None:
            options[key] = int(v)
    lo, hi = options.get("min_resource"), options.get("max_resource")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        r.error((*path, "min_resource"), f"min_resource {lo} is above max_resource {hi}")
    return EarlyStopping(kind, options)  # type: ignore[arg-type]


def parse_monitoring(r: Report, raw: Any, path: Path) -> Any:
    if raw is None or isinstance(raw, bool):
        return raw
    m = r.mapping(raw, path, "monitoring")
    if m is None:
        return None
    out = dict(m)
    if "interval" in m:
        seconds = r.duration(m["interval"], (*path, "interval"))
        if seconds is not None:
            out["interval"] = seconds
    if "enabled" in m:
        r.boolean(m["enabled"], (*path, "enabled"))
    return out


def parse_artifacts(r: Report, raw: Any, path: Path) -> dict[str, Any] | None:
    m = r.mapping(raw, path, "artifacts")
    if m is None:
        return None
    r.string(m.get("root"), (*path, "root"))
    return dict(m)


def positive_int(v: Any) -> bool:
    return is_int(v) and v > 0
