"""The systems ``bench_overhead`` compares, each as ``runner(n, tag) -> Run`` on the same trivial objective.

Every objective computes ``(x - 3) ** 2`` for ``x ~ U(-10, 10)`` and notes the wall-clock time it finished
(``done_at``), so each system's per-trial overhead comes from the same kind of timestamp. Ray must be
initialised by the caller (one local Ray for every system); Optuna runs in the driver, with no Ray.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._common import quiet

TRIAL_MODULE = "hs_bench_trial"
TRIAL_SOURCE = '''"""hypersweep benchmark trials: the trivial objective, and a half-second sleep."""
import os
import time


def f(params):
    x = params["x"]
    return {"loss": (x - 3) ** 2, "done_at": time.time()}


def sleep(params):
    time.sleep(0.5)
    return {"loss": params["x"], "done_at": time.time(), "pid": os.getpid()}
'''
SWEEP = """objective: {{metric: loss, goal: minimize}}
strategy: {strategy}
seed: 1
budget: {{trials: {trials}, parallel: {parallel}}}
trial: {{function: "{module}:{function}"}}
resources: {{cpus: {cpus}}}
parameters:
  x: {{type: float, low: -10, high: 10}}
"""


@dataclass
class Run:
    """One measured run: when it started and how long it took (as the caller sees it, wall clock), and
    when each trial finished."""

    t0: float
    seconds: float
    done: list[float]
    started: list[float] = field(default_factory=list)  # when trials started, where recorded
    workers: int | None = None  # distinct worker processes, where trials report their pid


Runner = Callable[[int, str], Run]


def hypersweep_runner(
    work: Path, strategy: str, *, function: str = "f", cpus: float = 1, parallel: int = 2
) -> Runner:
    """``run_sweep`` with the Ray executor and a fresh SQLite store per run; checks every trial was
    recorded as complete."""
    (work / f"{TRIAL_MODULE}.py").write_text(TRIAL_SOURCE)

    def run(n: int, tag: str) -> Run:
        from hypersweep.orchestrate import run_sweep
        from hypersweep.records import TrialState
        from hypersweep.store import opened

        path = work / f"{tag}.yaml"
        path.write_text(
            SWEEP.format(
                strategy=strategy,
                trials=n,
                parallel=parallel,
                module=TRIAL_MODULE,
                function=function,
                cpus=cpus,
            )
        )
        url = f"sqlite:///{work / tag}.db"
        t0, start = time.perf_counter(), time.time()
        run_sweep(path, store=url, name=tag, trials=n, parallel=parallel)
        seconds = time.perf_counter() - t0
        with opened(url) as st:
            study = st.get_study(tag)
            counts = st.study_counts(study.study_id)
            trials = st.get_trials(study.study_id)
        complete = counts.get(TrialState.COMPLETE, 0)
        if complete != n or len(trials) != n:
            raise RuntimeError(f"{tag}: {complete} complete of {len(trials)} recorded trials, expected {n}")
        return Run(
            start,
            seconds,
            [t.metrics["done_at"] for t in trials],
            [t.started_at.timestamp() for t in trials if t.started_at is not None],
            len({t.metrics["pid"] for t in trials}) if all("pid" in t.metrics for t in trials) else None,
        )

    return run


def tune_runner(work: Path, *, reuse_actors: bool) -> Runner:
    """A Ray Tune ``Tuner`` over the same space, 1 CPU per trial; its console output goes to a log file."""

    def run(n: int, tag: str) -> Run:
        from ray import tune

        def trainable(config: dict[str, float]) -> dict[str, float]:  # by value: workers need no import
            return {"loss": (config["x"] - 3) ** 2, "done_at": time.time()}

        t0, start = time.perf_counter(), time.time()
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": 1}),
            param_space={"x": tune.uniform(-10, 10)},
            tune_config=tune.TuneConfig(num_samples=n, metric="loss", mode="min", reuse_actors=reuse_actors),
            run_config=tune.RunConfig(name=tag, storage_path=str(work / "tune"), verbose=0),
        )
        with quiet(work / "tune.log"):
            grid = tuner.fit()
        seconds = time.perf_counter() - t0
        if grid.num_errors or len(grid) != n:
            raise RuntimeError(f"{tag}: Ray Tune finished {len(grid)} trials with {grid.num_errors} errors")
        return Run(start, seconds, [r.metrics["done_at"] for r in grid])

    return run


def optuna_runner(work: Path, *, sqlite: bool) -> Runner:
    """``study.optimize`` with a seeded random sampler on RDBStorage/SQLite (a fresh file per run) or in
    memory; one trial at a time in the driver, as ``n_jobs=1``."""

    def run(n: int, tag: str) -> Run:
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
        done: list[float] = []

        def objective(trial: optuna.Trial) -> float:
            x = trial.suggest_float("x", -10, 10)
            done.append(time.time())
            return (x - 3) ** 2

        t0, start = time.perf_counter(), time.time()
        study = optuna.create_study(
            storage=f"sqlite:///{work / tag}-optuna.db" if sqlite else None,
            study_name=tag,
            direction="minimize",
            sampler=optuna.samplers.RandomSampler(seed=1),
        )
        study.optimize(objective, n_trials=n)
        seconds = time.perf_counter() - t0
        if len(study.trials) != n:
            raise RuntimeError(f"{tag}: Optuna recorded {len(study.trials)} trials, expected {n}")
        return Run(start, seconds, done)

    return run
