"""``load_spec`` / ``parse_spec``: read, apply ``--set`` overrides, validate, check files, assemble."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

from hypersweep.errors import SpecError, SpecViolation
from hypersweep.spec._check import Report, did_you_mean, is_int, is_number
from hypersweep.spec._command import MACROS, is_known_macro, macro_of, template_fields
from hypersweep.spec._grid import MAX_GRID_POINTS, grid_size, not_griddable_reason
from hypersweep.spec._model import SweepSpec
from hypersweep.spec._native import NATIVE_TOP_KEYS, freeze, parse_native
from hypersweep.spec._space import Param, flatten, is_active
from hypersweep.spec._strategy import CONSTRAINT_AWARE, resolve_strategy
from hypersweep.spec._wandb import (
    WANDB_TOP_KEYS,
    is_study_name,
    parse_wandb,
    program_problem,
    study_name_from,
)
from hypersweep.spec._yaml import Path, load_yaml, parse_scalar

__all__ = ["load_spec", "objective_names", "parse_spec"]

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
_NAME_BAD = re.compile(r"[\s*?\[\]/\\]")


def load_spec(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> SweepSpec:
    """Read and validate a sweep file; raises :class:`SpecError` listing every violation."""
    fs = FsPath(path).expanduser()
    file = str(fs.resolve()) if fs.exists() else str(fs.absolute())
    try:
        text = fs.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"no such sweep file: {file}", file=file) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read the sweep file: {e}", file=file) from None
    return parse_spec(text, file=file, overrides=overrides)


def parse_spec(
    text: str,
    *,
    file: str | None = None,
    workdir: str | None = None,
    overrides: Sequence[str] = (),
    check_files: bool = True,
) -> SweepSpec:
    """Validate a sweep file's text (native or W&B); raises :class:`SpecError` listing every violation."""
    if file is not None:
        file = os.path.abspath(file)
    wd = os.path.abspath(workdir) if workdir else (os.path.dirname(file) if file else os.getcwd())
    doc = load_yaml(text)
    yaml_errors = [SpecViolation(f.path, f.message, f.line, f.column, file) for f in doc.failures]
    if doc.data is None and yaml_errors:
        raise SpecError(yaml_errors, file=file)
    data = doc.data
    if not isinstance(data, dict) or (
        "parameters" not in data and "method" not in data and not _looks_wandb(data)
    ):
        what = (
            "empty"
            if data is None
            else ("not a mapping" if not isinstance(data, dict) else "missing `parameters`")
        )
        raise SpecError(
            [
                *yaml_errors,
                SpecViolation(
                    "",
                    f"this file is neither a hypersweep sweep file nor a W&B sweep config ({what}): a native file "
                    "needs `parameters` (and `trial`), a W&B config needs `method` and `parameters`",
                    1,
                    None,
                    file,
                ),
            ],
            file=file,
        )
    is_wandb = "method" in data
    block_from_file = "hypersweep" in data
    override_errors: list[SpecViolation] = []
    overridden: dict[Path, str] = {}
    if overrides:
        data = _copy(data)
        for item in overrides:
            _apply_override(data, item, is_wandb, overridden, override_errors, file)
    r = Report(doc, file, overridden)
    if not is_wandb and _looks_wandb(data):
        r.error(
            (), "this looks like a W&B sweep config without `method:` (add method: grid, random or bayes)"
        )
        raise SpecError([*yaml_errors, *override_errors, *r.errors], file=file)
    parts = parse_wandb(r, data, block_from_file) if is_wandb else parse_native(r, data)
    if is_wandb:
        for fpath in doc.coerced_floats:
            r.warn(fpath, "read as a float (YAML 1.1, and W&B, read this spelling as a string; write 1.0e-5 to be portable)")  # fmt: skip
    spec = _finish(r, parts, text, file, wd, check_files)
    errors = [*yaml_errors, *override_errors, *r.errors]
    if errors:
        errors.sort(key=lambda v: (v.line is None, v.line or 0, v.column or 0))
        raise SpecError(errors, file=file)
    if spec is None:  # pragma: no cover - _finish returns None only when it recorded errors
        raise SpecError("invalid sweep file", file=file)
    return spec


def objective_names(text: str) -> tuple[str, ...]:
    """The objective metrics a recorded sweep file names, in order (``objectives:``/W&B ``metrics:``, or
    the single ``objective``/``metric``), read without validating the rest; () when it names none."""
    data = load_yaml(text).data
    if not isinstance(data, dict):
        return ()
    wandb = "method" in data
    many, one, key = ("metrics", "metric", "name") if wandb else ("objectives", "objective", "metric")
    items = data.get(many)
    if not isinstance(items, list):
        items = [data.get(one)]
    names = tuple(str(i[key]) for i in items if isinstance(i, dict) and isinstance(i.get(key), str))
    return names


def _looks_wandb(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    wandb_only = {"metric", "run_cap", "early_terminate", "program"}
    native_only = set(NATIVE_TOP_KEYS) - {"name", "description", "parameters"}
    return bool(wandb_only & set(data)) and not (native_only & set(data))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _apply_override(
    data: dict[str, Any],
    item: str,
    is_wandb: bool,
    overridden: dict[Path, str],
    errors: list[SpecViolation],
    file: str | None,
) -> None:
    def fail(message: str) -> None:
        errors.append(SpecViolation(f"--set {item}", message, None, None, file))

    if not isinstance(item, str) or "=" not in item:
        fail("expected KEY=VALUE, e.g. --set resources.gpus=1")
        return
    key, raw = item.split("=", 1)
    key = key.strip()
    if not _KEY_RE.match(key):
        fail(f"{key!r} is not a dotted key such as budget.trials or parameters.lr.high")
        return
    value, err = parse_scalar(raw) if raw.strip() else ("", None)
    if err is not None:
        fail(f"the value is not valid YAML: {err}")
        return
    parts: list[str] = key.split(".")
    if is_wandb and parts[0] not in WANDB_TOP_KEYS and parts[0] != "hypersweep":
        parts = ["hypersweep", *parts]
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif isinstance(child, str) and part in ("strategy", "early_stopping"):
            child = node[part] = {"name" if part == "strategy" else "type": child}
        elif not isinstance(child, dict):
            fail(f"cannot set {key}: {'.'.join(parts[: i + 1])} is {child!r}, not a mapping")
            return
        node = child
    node[parts[-1]] = value
    overridden[tuple(parts)] = item


def _finish(
    r: Report, parts: dict[str, Any], text: str, file: str | None, wd: str, check_files: bool
) -> SweepSpec | None:
    params: list[Param] = parts["parameters"]
    ppaths = _param_paths(params, parts["format"])
    name = parts["name"]
    stem = FsPath(file).stem if file else "sweep"
    default = _NAME_BAD.sub("-", stem).strip("-") or "sweep"
    if name is None:
        name = default
    elif parts["format"] == "wandb" and not is_study_name(name):  # a W&B display name
        derived = study_name_from(name) or default
        parts["metadata"]["display_name"] = name
        r.warn(("name",), f"{name!r} is a W&B display name: the study is named {derived!r} (choose another with --name NAME)")  # fmt: skip
        name = derived
    elif not is_study_name(name):
        r.error(
            ("name",),
            f"name {name!r} must be non-empty, at most 200 characters, without spaces, / or * ? [ ] "
            "(or run with --name NAME)",
        )
    budget = parts["budget"]
    objectives = parts.get("objectives") or ()
    strategy = resolve_strategy(
        r, parts["strategy"], params, budget.trials, parts["objective"] is not None,
        ("strategy",) if parts["format"] == "native" else ("hypersweep", "strategy"),
        objectives=max(len(objectives), 1), objectives_key="objectives" if parts["format"] == "native" else "metrics",
    )  # fmt: skip
    trial = parts["trial"]
    size: int | None = None
    if strategy.name == "grid":
        for p in params:
            reason = not_griddable_reason(p)
            if reason is not None:
                r.error(ppaths[p.name], f"parameter {p.name!r} cannot be part of a grid: {reason}")
        if all(not_griddable_reason(p) is None for p in params):
            size = grid_size(params, cap=MAX_GRID_POINTS)
            if size is not None and size > MAX_GRID_POINTS:
                r.error(
                    ("method",) if parts["format"] == "wandb" else ("strategy",),
                    f"the grid has {'at least ' if any(p.when for p in params) else ''}{_count(size)} points, above "
                    f"the limit of {MAX_GRID_POINTS:,} (a grid is expanded in memory): use a larger step or fewer "
                    "values, or random or tpe search",
                )
                size = None
            budget = _grid_budget(r, budget, size, parts["format"])
    else:
        size = grid_size(params, cap=MAX_GRID_POINTS)
        if size is not None and size > MAX_GRID_POINTS:
            size = None
        if budget.trials is None:
            what = "run_cap" if parts["format"] == "wandb" else "budget.trials"
            r.warn(("budget",) if parts["format"] == "native" else ("run_cap",),
                   f"no {what}: `run` goes on until budget.timeout, `hypersweep stop` or Ctrl-C")  # fmt: skip
    constraints = parts.get("constraints") or ()
    if constraints and strategy.name not in CONSTRAINT_AWARE:
        where_c = ("constraints",) if parts["format"] == "native" else ("hypersweep", "constraints")
        r.warn(where_c, f"strategy {strategy.name} draws without regard to the constraints: they mark trials "
               "feasible or not and rank them; tpe, gp and nsga2 search towards feasibility")  # fmt: skip
    if budget.patience is not None and parts["objective"] is None:
        where = (
            ("budget", "patience") if parts["format"] == "native" else ("hypersweep", "budget", "patience")
        )
        r.error(where, "budget.patience counts trials without a better best, so it needs an objective: "
                "add `objective: {metric: ..., goal: ...}` or remove budget.patience")  # fmt: skip
    enqueue = _enqueue(r, parts["enqueue_raw"], params)
    if trial.command is not None:
        _check_template(r, trial.command, parts["command_path"], params, trial.program)
    if check_files:
        _check_files(r, trial, wd, parts["command_path"], "hypersweep" if parts["format"] == "wandb" else "")
    if r.errors:
        return None
    return SweepSpec(
        name=name,
        format=parts["format"],
        workdir=wd,
        text=text,
        spec_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        parameters=tuple(params),
        strategy=strategy,
        budget=budget,
        trial=trial,
        resources=parts["resources"],
        early_stopping=parts["early_stopping"],
        objective=parts["objective"],
        objectives=tuple(objectives),
        constraints=tuple(parts.get("constraints") or ()),
        description=parts["description"],
        file=file,
        seed=parts["seed"],
        enqueue=tuple(enqueue),
        monitoring=parts["monitoring"],
        artifacts=parts["artifacts"],
        metadata=parts["metadata"],
        warnings=tuple(sorted(r.warnings, key=lambda v: (v.line is None, v.line or 0, v.column or 0))),
        grid_size=size,
    )


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10**{len(str(n)) - 1}"


def _param_paths(params: Sequence[Param], fmt: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in params:
        if fmt == "native":
            out[p.name] = ("parameters", p.name)
        else:
            path: tuple[str, ...] = ()
            for part in p.key_path:
                path = (*path, "parameters", part)
            out[p.name] = path
    return out


def _grid_budget(r: Report, budget: Any, size: int | None, fmt: str) -> Any:
    if size is None:
        return budget
    where: Path = ("run_cap",) if fmt == "wandb" else ("budget", "trials")
    if budget.trials is None:
        return dataclasses.replace(budget, trials=size)
    if budget.trials < size:
        r.warn(where, f"the grid has {size} points and trials is {budget.trials}: the sweep runs the first {budget.trials} points")  # fmt: skip
    elif budget.trials > size:
        r.warn(where, f"trials {budget.trials} is above the grid's size: the grid runs its {size} points")
        return dataclasses.replace(budget, trials=size)
    return budget


def _enqueue(r: Report, raw_and_path: tuple[Any, Path], params: Sequence[Param]) -> list[dict[str, Any]]:
    raw, path = raw_and_path
    if raw is None:
        return []
    if not isinstance(raw, list):
        r.error(path, "enqueue must be a list of parameter sets, e.g. [{lr: 0.01, kernel: rbf}]")
        return []
    by_name = {p.name: p for p in params}
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(raw):
        epath = (*path, i)
        if not isinstance(entry, dict):
            r.error(epath, "each enqueue entry must be a mapping of parameter -> value")
            continue
        flat: dict[str, Any] = {}
        for key, value in entry.items():
            if (
                key not in by_name
                and isinstance(value, dict)
                and any(n.startswith(f"{key}.") for n in by_name)
            ):
                flat.update(flatten(value, f"{key}."))
            else:
                flat[str(key)] = value
        ok = True
        chosen: dict[str, Any] = {}
        for key, value in flat.items():
            p = by_name.get(key)
            if p is None:
                r.error(
                    (*epath, key),
                    f"{key!r} is not a parameter{did_you_mean(key, list(by_name))}",
                    at_key=True,
                )
                ok = False
                continue
            problem = _value_problem(p, value)
            if problem:
                r.error((*epath, key), f"{value!r} is outside the space of {key!r}: {problem}")
                ok = False
        for p in params:
            if p.name in flat:
                if not is_active(p, chosen):
                    r.error((*epath, p.name), f"{p.name!r} is inactive in this entry (its `when` conditions fail): remove it")  # fmt: skip
                    ok = False
                chosen[p.name] = flat[p.name]
        if ok:
            out.append(flat)
    return out


def _value_problem(p: Param, v: Any) -> str | None:
    if p.kind == "constant":
        return None if freeze(v) == freeze(p.value) or v == p.value else f"the constant is {p.value!r}"
    if p.kind == "categorical" or (p.kind == "quantile" and p.values):
        return (
            None
            if any(freeze(v) == freeze(c) or v == c for c in p.values)
            else f"not one of {list(p.values)!r}"
        )
    if p.kind == "int" and not is_int(v):
        return "not an integer"
    if not is_number(v):
        return "not a number"
    if p.low is not None and p.high is not None and not (p.low <= v <= p.high):
        return f"not in [{p.low}, {p.high}]"
    return None


def _check_template(
    r: Report, command: Sequence[str], path: Path, params: Sequence[Param], program: str | None
) -> None:
    names = [p.name for p in params]
    for i, item in enumerate(command):
        macro = macro_of(item)
        if macro is not None:
            if not is_known_macro(macro):
                r.warn((*path, i), f"unknown macro ${{{macro}}}: it expands to nothing (as in W&B){did_you_mean(macro, MACROS)}")  # fmt: skip
            elif macro == "program" and not program:
                r.warn((*path, i), "${program} is used but `program` is not set: it expands to nothing")
            continue
        try:
            fields = [text for kind, text in template_fields(item) if kind == "field"]
        except ValueError as e:
            r.error((*path, i), str(e))
            continue
        for field in fields:
            if field not in names:
                r.error((*path, i), f"{{{field}}} names no parameter{did_you_mean(field, names)}")


_PY_RE = re.compile(r"^python(\d+(\.\d+)?)?$")


def _check_files(r: Report, trial: Any, wd: str, command_path: Path, block: str) -> None:
    tpath: Path = (block, "trial") if block else ("trial",)
    if trial.function is not None:
        module, _, func = trial.function.partition(":")
        problem = _module_problem(module, wd, func)
        if problem:
            r.error((*tpath, "function"), problem)
    if (
        trial.program is not None
        and trial.command is not None
        and "${program}" in trial.command
        and (problem := program_problem(trial.program, wd, trial.command))
    ):
        r.error(("program",), problem)
    if trial.command is None or trial.function is not None:
        return
    items = [c for c in trial.command if c != "${env}"]
    if not items:
        return
    first = items[0]
    if first == "${interpreter}" or _PY_RE.match(os.path.basename(first)):
        rest = items[1:]
        for j, item in enumerate(rest):
            if item == "-m" and j + 1 < len(rest):
                mod = rest[j + 1]
                if "{" not in mod and (problem := _module_problem(mod, wd, None)):
                    r.error((*command_path, trial.command.index(mod)), problem)
                return
            if item.startswith("-"):
                continue
            if item.endswith(".py") and "{" not in item and not os.path.isfile(os.path.join(wd, item)):
                r.error((*command_path, trial.command.index(item)), f"script {item!r} not found in {wd}")
            return
    elif (
        "{" not in first
        and (first.endswith((".py", ".sh")) or first.startswith(("./", "../")))
        and not os.path.isfile(os.path.join(wd, first))
    ):
        r.error((*command_path, trial.command.index(first)), f"program {first!r} not found in {wd}")


def _module_problem(module: str, wd: str, func: str | None) -> str | None:
    rel = module.replace(".", os.sep)
    for candidate in (os.path.join(wd, rel + ".py"), os.path.join(wd, rel, "__init__.py")):
        if os.path.isfile(candidate):
            return _function_problem(candidate, module, func)
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return (
            f"module {module!r} not found: no {rel}.py or {rel}/__init__.py in {wd}, and it is not importable "
            "(check the name, or install the package)"
        )
    return None


def _function_problem(path: str, module: str, func: str | None) -> str | None:
    if func is None:
        return None
    try:
        tree = ast.parse(FsPath(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None  # the trial itself will report it; not the spec's business
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While) and _defines_anywhere(
            node, func
        ):
            return None
    if func in names or "__getattr__" in names:
        return None
    return _missing(func, module, names)


def _defines_anywhere(node: ast.AST, func: str) -> bool:
    return any(
        (isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == func)
        or (isinstance(n, ast.Name) and n.id == func and isinstance(n.ctx, ast.Store))
        or (isinstance(n, ast.alias) and (n.asname or n.name) == func)
        for n in ast.walk(node)
    )


def _missing(func: str, module: str, names: set[str]) -> str:
    return f"module {module!r} has no function {func!r}{did_you_mean(func, sorted(names))}"
