"""How the sample-efficiency benchmark runs each method (benchmarks/bench_efficiency.py).

Each runner returns ``{"values": [objective per trial, in trial order], "seconds": wall time, ...}``; on a
task with several objectives or constraints also ``"points"`` (every objective value of each trial, a tuple)
and ``"feasible"`` (whether each trial met the constraints; None without constraints).

- hypersweep: ``run_sweep(executor="local")`` of a sweep file written to a temporary folder (with
  ``budget.trials``, so ``auto`` sees the budget as a user's file gives it, and the task's ``objectives:`` or
  ``constraints:`` list as a user writes them), one fresh study per seed in one temporary SQLite store; the
  objectives (and the recorded feasibility) are read back from the store in trial-number order and the
  strategy the study recorded (what ``auto`` resolved to) is returned too.
- Optuna run directly, the reference: an in-memory study with the sampler hypersweep builds for that
  strategy, seeded as hypersweep seeds it (paired seeds), on the same space and trial functions; several
  objectives make it a multi-objective study, and constraints are set on each trial with
  ``Trial.set_constraint`` under the constraint's text, the violation hypersweep tells its samplers (Optuna
  5 deprecates the samplers' ``constraints_func`` for it).
- W&B's ``bayes``: the open-source engine (``sweeps`` on PyPI) driven through ``sweeps.next_run`` with a
  W&B sweep config; it draws from NumPy's global generator, seeded per run.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._efficiency_tasks import FUNCTIONS, TASKS, grid_points

TRIAL_MODULE = "hs_bench_efficiency_trials"
HS_SEED_FACTOR = 1_000_003  # hypersweep seeds a new study's sampler with study_seed * this (masked)
TPE_OPTIONS = {"multivariate": True, "constant_liar": True}
HS_STRATEGIES = ("grid", "random", "tpe", "gp", "cmaes", "qmc", "auto")  # a task's default
OPTUNA_SAMPLERS = ("tpe", "gp", "cmaes", "qmc")  # a task's default Optuna references
ALL_STRATEGIES = (*HS_STRATEGIES, "nsga2")
ALL_SAMPLERS = (*OPTUNA_SAMPLERS, "nsga2")

# the methods' names in the results
HS = {s: f"hypersweep {s}" for s in ALL_STRATEGIES}
LABEL = {"tpe": "TPE", "gp": "GP", "cmaes": "CMA-ES", "qmc": "QMC", "nsga2": "NSGA-II"}
REF = {k: f"Optuna {LABEL[k]} (ref)" for k in ALL_SAMPLERS}
WANDB = "W&B bayes (sweeps)"
AUTO = HS["auto"]


def strategies(task: str) -> tuple[str, ...]:
    """The hypersweep strategies run on ``task``."""
    return tuple(TASKS[task].get("strategies", HS_STRATEGIES))


def samplers(task: str) -> tuple[str, ...]:
    """The Optuna samplers run directly on ``task`` as references."""
    return tuple(TASKS[task].get("optuna", OPTUNA_SAMPLERS))


def objectives(task: str) -> tuple[tuple[str, str], ...]:
    """``task``'s objectives, (metric, goal) each: one for a single-objective task."""
    t = TASKS[task]
    return tuple(t.get("objectives", ((t["metric"], t["goal"]),)))


def wandb_skip(task: str, version: str) -> str | None:
    """Why W&B's engine is not run on ``task`` (None: it is)."""
    reason = TASKS[task].get("wandb")
    return None if reason is None else str(reason).format(version=version)


def sampler_seed(study_seed: int) -> int:
    """The seed hypersweep gives a new study's sampler for study seed ``study_seed``."""
    return (study_seed * HS_SEED_FACTOR) & 0x7FFFFFFF


# -- hypersweep ---------------------------------------------------------------------------------------------
def sweep_yaml(task: str, strategy: str, trials: int) -> str:
    t = TASKS[task]
    if "objectives" in t:
        items = ", ".join(f"{{metric: {m}, goal: {g}}}" for m, g in t["objectives"])
        goal_line = f"objectives: [{items}]"
    else:
        goal_line = f"objective: {{metric: {t['metric']}, goal: {t['goal']}}}"
    lines = [
        f"name: {task}-{strategy}",
        goal_line,
        *([f"constraints: [{', '.join(repr(c) for c in t['constraints'])}]"] if t.get("constraints") else []),
        f"strategy: {strategy}",
        f"trial: {{function: '{TRIAL_MODULE}:{t['function']}'}}",
        f"budget: {{trials: {trials}}}",
        "monitoring: false",
        "parameters:",
    ]
    if strategy == "grid":
        for name, (low, high, step) in t["grid"].items():
            lines.append(f"  {name}: {{type: float, low: {low}, high: {high}, step: {step}}}")
    else:
        for name, (low, high) in t["space"].items():
            lines.append(f"  {name}: {{type: float, low: {low}, high: {high}}}")
    return "\n".join(lines) + "\n"


def write_files(work: Path, trials: int) -> dict[tuple[str, str], Path]:
    """The trial module and one sweep file per (task, strategy)."""
    names = sorted({t["function"] for t in TASKS.values()})
    (work / f"{TRIAL_MODULE}.py").write_text(
        '"""Trial functions of benchmarks/bench_efficiency.py."""\n\n'
        f"from benchmarks._efficiency_tasks import {', '.join(names)}\n\n"
        f"__all__ = {names!r}\n"
    )
    files = {}
    for task in TASKS:
        for strategy in strategies(task):
            n = min(trials, grid_points(task)) if strategy == "grid" else trials
            path = work / f"{task}-{strategy}.yaml"
            path.write_text(sweep_yaml(task, strategy, n))
            files[task, strategy] = path
    return files


def hypersweep_run(path: Path, url: str, study: str, trials: int, seed: int) -> dict[str, Any]:
    from hypersweep.orchestrate import run_sweep
    from hypersweep.store import opened

    t = time.perf_counter()
    res = run_sweep(path, store=url, name=study, executor="local", trials=trials, seed=seed)
    seconds = time.perf_counter() - t
    with opened(url) as st:
        rec = st.get_study(study)
        rows = st.get_trials(rec.study_id)
    values = [tr.objective for tr in rows]
    if len(values) != trials:
        raise RuntimeError(f"{study}: {len(values)} trials recorded, {trials} expected ({res.status})")
    return {
        "values": values,
        "points": [tuple(tr.values) if tr.values else None for tr in rows],
        "feasible": [tr.feasible for tr in rows],
        "seconds": seconds,
        "strategy": rec.strategy,
    }


# -- Optuna, the reference ----------------------------------------------------------------------------------
def _optuna_sampler(kind: str, study_seed: int) -> Any:
    """The sampler hypersweep's ``kind`` strategy builds for a new study of seed ``study_seed``
    (src/hypersweep/strategies/_optuna.py and _samplers.py, default options)."""
    import optuna

    seed = sampler_seed(study_seed)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **TPE_OPTIONS)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if kind == "qmc":
        return optuna.samplers.QMCSampler(
            qmc_type="sobol",
            scramble=True,
            seed=study_seed & 0x7FFFFFFF,
            independent_sampler=optuna.samplers.RandomSampler(seed=seed),
            warn_asynchronous_seeding=False,
            warn_independent_sampling=False,
        )
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    raise ValueError(kind)


def optuna_run(task: str, kind: str, trials: int, study_seed: int) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from hypersweep.spec import constraints_of, feasible, violations

    t = TASKS[task]
    fn = FUNCTIONS[t["function"]]
    objs = objectives(task)
    # the constraints parsed as hypersweep parses them: the same names and violation amounts
    cons = constraints_of(f"constraints: {list(t.get('constraints', ()))!r}")
    outcomes: dict[int, bool | None] = {}

    def objective(trial: Any) -> float | tuple[float, ...]:
        params = {name: trial.suggest_float(name, low, high) for name, (low, high) in t["space"].items()}
        metrics = fn(params)
        for c, v in zip(cons, violations(cons, metrics), strict=True):
            trial.set_constraint(c.text, float(v))
        outcomes[trial.number] = feasible(cons, metrics)
        values = tuple(metrics[m] for m, _ in objs)
        return values if len(values) > 1 else values[0]

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        study = optuna.create_study(
            directions=[g for _, g in objs], sampler=_optuna_sampler(kind, study_seed)
        )
        study.optimize(objective, n_trials=trials)
    seconds = time.perf_counter() - start
    done = sorted(study.trials, key=lambda tr: tr.number)
    return {
        "values": [tr.values[0] if tr.values else None for tr in done],
        "points": [tuple(tr.values) if tr.values else None for tr in done],
        "feasible": [outcomes.get(tr.number) for tr in done],
        "seconds": seconds,
    }


# -- W&B bayes (the ``sweeps`` package) ---------------------------------------------------------------------
@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # sweeps 0.2.0 declares pydantic v1-style config keys (a UserWarning on import) and its GP fit warns
    # about kernel bounds (ConvergenceWarning) now and then
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def wandb_available() -> tuple[bool, str]:
    """Whether W&B's engine imports, and its version or why not."""
    try:
        with _quiet():
            import sweeps  # noqa: F401
        from importlib import metadata

        return True, metadata.version("sweeps")
    except Exception as e:
        return False, f"{type(e).__name__}: {e}"


def wandb_config(task: str) -> dict[str, Any]:
    t = TASKS[task]
    return {
        "method": "bayes",
        "metric": {"name": t["metric"], "goal": t["goal"]},
        "parameters": {name: {"min": low, "max": high} for name, (low, high) in t["space"].items()},
    }


def wandb_run(task: str, trials: int, seed: int) -> dict[str, Any]:
    """W&B's ``bayes`` on ``task``: ``sweeps.next_run`` suggests, the trial function runs, the run is
    recorded as finished with the metric in its summary and history."""
    import numpy as np

    with _quiet():
        import sweeps
        from sweeps import RunState

    t = TASKS[task]
    fn = FUNCTIONS[t["function"]]
    config = wandb_config(task)
    runs: list[Any] = []
    values: list[float | None] = []
    np.random.seed(seed)  # the engine samples with NumPy's global generator
    start = time.perf_counter()
    with _quiet():
        for _ in range(trials):
            run = sweeps.next_run(config, runs)
            assert run is not None
            params = {k: v["value"] for k, v in run.config.items()}
            v = fn(params)[t["metric"]]
            run.state = RunState.finished
            run.summary_metrics = {t["metric"]: v}
            run.history = [{t["metric"]: v}]
            runs.append(run)
            values.append(v)
    seconds = time.perf_counter() - start
    return {"values": values, "seconds": seconds}
