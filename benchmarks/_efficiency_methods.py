"""How the sample-efficiency benchmark runs each method (benchmarks/bench_efficiency.py).

Each runner returns ``{"values": [objective per trial, in trial order], "seconds": wall time, ...}``.

- hypersweep: ``run_sweep(executor="local")`` of a sweep file written to a temporary folder (with
  ``budget.trials``, so ``auto`` sees the budget as a user's file gives it), one fresh study per seed in one
  temporary SQLite store; the objectives are read back from the store in trial-number order and the
  strategy the study recorded (what ``auto`` resolved to) is returned too.
- Optuna run directly, the reference: an in-memory study with the sampler hypersweep builds for that
  strategy, seeded as hypersweep seeds it (paired seeds), on the same space and trial functions.
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
HS_STRATEGIES = ("grid", "random", "tpe", "gp", "cmaes", "qmc", "auto")
OPTUNA_SAMPLERS = ("tpe", "gp", "cmaes", "qmc")

# the methods' names in the results
HS = {s: f"hypersweep {s}" for s in HS_STRATEGIES}
LABEL = {"tpe": "TPE", "gp": "GP", "cmaes": "CMA-ES", "qmc": "QMC"}
REF = {k: f"Optuna {LABEL[k]} (ref)" for k in OPTUNA_SAMPLERS}
WANDB = "W&B bayes (sweeps)"
AUTO = HS["auto"]


def sampler_seed(study_seed: int) -> int:
    """The seed hypersweep gives a new study's sampler for study seed ``study_seed``."""
    return (study_seed * HS_SEED_FACTOR) & 0x7FFFFFFF


# -- hypersweep ---------------------------------------------------------------------------------------------
def sweep_yaml(task: str, strategy: str, trials: int) -> str:
    t = TASKS[task]
    lines = [
        f"name: {task}-{strategy}",
        f"objective: {{metric: {t['metric']}, goal: {t['goal']}}}",
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
        for strategy in HS_STRATEGIES:
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
        values = [tr.objective for tr in st.get_trials(rec.study_id)]
    if len(values) != trials:
        raise RuntimeError(f"{study}: {len(values)} trials recorded, {trials} expected ({res.status})")
    return {"values": values, "seconds": seconds, "strategy": rec.strategy}


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
    raise ValueError(kind)


def optuna_run(task: str, kind: str, trials: int, study_seed: int) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t = TASKS[task]
    fn = FUNCTIONS[t["function"]]

    def objective(trial: Any) -> float:
        params = {name: trial.suggest_float(name, low, high) for name, (low, high) in t["space"].items()}
        return fn(params)[t["metric"]]

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        study = optuna.create_study(direction=t["goal"], sampler=_optuna_sampler(kind, study_seed))
        study.optimize(objective, n_trials=trials)
    seconds = time.perf_counter() - start
    values = [tr.value for tr in sorted(study.trials, key=lambda tr: tr.number)]
    return {"values": values, "seconds": seconds}


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
