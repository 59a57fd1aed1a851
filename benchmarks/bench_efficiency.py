"""Sample efficiency: hypersweep's TPE vs random vs grid on two real scikit-learn tasks, Optuna as the reference.

Tasks (bundled data, one fixed train/validation split each, so a trial takes a few milliseconds):

- ``breast-cancer-svc``: ``SVC(C, gamma)`` (RBF) on ``load_breast_cancer``, standardised, 50/50 stratified split;
  maximise validation accuracy.
- ``diabetes-kernel-ridge``: ``KernelRidge(alpha, kernel="rbf", gamma)`` on ``load_diabetes``, standardised,
  70/30 split; minimise validation RMSE.

Both spaces are two log-scale parameters written as their base-10 exponents (``log10_C`` in [-2, 2.5], ...), so
TPE and random sample them log-uniformly and the grid over the same bounds with step 0.5 has 10 x 10 = 100 points.

Methods, each seed a fresh study in one temporary SQLite store, run with ``run_sweep(executor="local")``
from a sweep file and trial module written to a temporary folder; each trial's objective is read back from the
store in trial-number order to build the best-so-far curve:

- hypersweep ``tpe`` (its defaults: Optuna's ``TPESampler`` with ``multivariate=True, constant_liar=True``);
- hypersweep ``random``;
- hypersweep ``grid`` (the 100 points in the grid's order; deterministic, so one run);
- Optuna run directly as the reference: ``TPESampler(seed=..., multivariate=True, constant_liar=True)`` and an
  in-memory study, the same space (``suggest_float`` on the same bounds) and the same objective functions.
  Seeds are paired: for study seed ``s`` the reference gets the sampler seed hypersweep derives from ``s``
  (``s * 1_000_003``, masked to 31 bits, in ``strategies/_optuna.py``), so each Optuna run is the one
  hypersweep's run of that seed must reproduce.

Sizes: seeds 1..5, 100 trials, best objective after 20/50/100 trials (``--quick``: 2 seeds, 50 trials, 20/50),
after an unreported warm-up run of each (imports, data). Trials run one at a time in this process with one
BLAS thread (``threadpoolctl``) for every method. hypersweep's TPE curve must lie within the seeds' spread
(min..max) of Optuna's at every checkpoint, since it is the same sampler; the result says whether it does, over
what share of the whole curve, and how many trials of each seed's run are identical to the reference's (all of
them unless hypersweep's TPE departs from Optuna's: other options, another space encoding, or results told
in another order). Independent seeds (an earlier version of this benchmark) put one side's mean outside the
other's min..max now and then by chance alone; paired seeds make the check exact.

``run()`` also draws the curves to ``docs/benchmark_efficiency.png``.
"""

from __future__ import annotations

import functools
import math
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import DOCS

SEEDS = 5
QUICK_SEEDS = 2
TRIALS = 100
QUICK_TRIALS = 50
CHECKPOINTS = (20, 50, 100)
GRID_STEP = 0.5
PLOT = DOCS / "benchmark_efficiency.png"
TRIAL_MODULE = "hs_bench_efficiency_trials"
WARMUP = 3
HS_SEED_FACTOR = 1_000_003  # hypersweep seeds a new study's sampler with study_seed * this

HS_TPE = "hypersweep TPE"
OPTUNA_TPE = "Optuna TPE (reference)"
HS_RANDOM = "hypersweep random"
HS_GRID = "hypersweep grid"
METHODS = (HS_TPE, OPTUNA_TPE, HS_RANDOM, HS_GRID)
TPE_OPTIONS = {"multivariate": True, "constant_liar": True}

TASKS: dict[str, dict[str, Any]] = {
    "breast-cancer-svc": {
        "title": "SVC (RBF) on breast_cancer",
        "function": "cancer_svc",
        "metric": "val_accuracy",
        "goal": "maximize",
        "space": {"log10_C": (-2.0, 2.5), "log10_gamma": (-5.0, -0.5)},
    },
    "diabetes-kernel-ridge": {
        "title": "KernelRidge (RBF) on diabetes",
        "function": "diabetes_krr",
        "metric": "val_rmse",
        "goal": "minimize",
        "space": {"log10_alpha": (-4.0, 0.5), "log10_gamma": (-4.5, 0.0)},
    },
}


# -- the trial functions (the temporary trial module re-exports them; Optuna calls them directly) -------
@functools.cache
def _cancer() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xva), ytr, yva


@functools.cache
def _diabetes() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xva), ytr, yva


def cancer_svc(params: dict[str, Any]) -> dict[str, float]:
    from sklearn.svm import SVC

    Xtr, Xva, ytr, yva = _cancer()
    model = SVC(C=10 ** params["log10_C"], gamma=10 ** params["log10_gamma"]).fit(Xtr, ytr)
    return {"val_accuracy": float(model.score(Xva, yva))}


def diabetes_krr(params: dict[str, Any]) -> dict[str, float]:
    import numpy as np
    from sklearn.kernel_ridge import KernelRidge

    Xtr, Xva, ytr, yva = _diabetes()
    model = KernelRidge(alpha=10 ** params["log10_alpha"], kernel="rbf", gamma=10 ** params["log10_gamma"])
    pred = model.fit(Xtr, ytr).predict(Xva)
    return {"val_rmse": float(np.sqrt(np.mean((pred - yva) ** 2)))}


FUNCTIONS: dict[str, Callable[[dict[str, Any]], dict[str, float]]] = {
    "cancer_svc": cancer_svc,
    "diabetes_krr": diabetes_krr,
}


# -- running --------------------------------------------------------------------------------------------
def _sweep_yaml(task: str, strategy: str) -> str:
    t = TASKS[task]
    lines = [
        f"name: {task}-{strategy}",
        f"objective: {{metric: {t['metric']}, goal: {t['goal']}}}",
        f"strategy: {strategy}",
        f"trial: {{function: '{TRIAL_MODULE}:{t['function']}'}}",
        "monitoring: false",
        "parameters:",
    ]
    for name, (low, high) in t["space"].items():
        step = f", step: {GRID_STEP}" if strategy == "grid" else ""
        lines.append(f"  {name}: {{type: float, low: {low}, high: {high}{step}}}")
    return "\n".join(lines) + "\n"


def _write_files(work: Path) -> dict[tuple[str, str], Path]:
    """The trial module and one sweep file per (task, strategy)."""
    (work / f"{TRIAL_MODULE}.py").write_text(
        '"""Trial functions of benchmarks/bench_efficiency.py."""\n\n'
        "from benchmarks.bench_efficiency import cancer_svc, diabetes_krr\n\n"
        '__all__ = ["cancer_svc", "diabetes_krr"]\n'
    )
    files = {}
    for task in TASKS:
        for strategy in ("tpe", "random", "grid"):
            path = work / f"{task}-{strategy}.yaml"
            path.write_text(_sweep_yaml(task, strategy))
            files[task, strategy] = path
    return files


def _best_so_far(values: Sequence[float | None], goal: str) -> list[float | None]:
    better = max if goal == "maximize" else min
    out: list[float | None] = []
    best: float | None = None
    for v in values:
        if v is not None and not math.isnan(v):
            best = v if best is None else better(best, v)
        out.append(best)
    return out


def _hypersweep_curve(path: Path, url: str, study: str, trials: int, seed: int, goal: str) -> dict[str, Any]:
    from hypersweep.orchestrate import run_sweep
    from hypersweep.store import opened

    t = time.perf_counter()
    res = run_sweep(path, store=url, name=study, executor="local", trials=trials, seed=seed)
    seconds = time.perf_counter() - t
    with opened(url) as st:
        sid = st.get_study(study).study_id
        values = [tr.objective for tr in st.get_trials(sid)]
    if len(values) != trials:
        raise RuntimeError(f"{study}: {len(values)} trials recorded, {trials} expected ({res.status})")
    return {"curve": _best_so_far(values, goal), "values": values, "seconds": seconds}


def _optuna_curve(task: str, trials: int, seed: int) -> dict[str, Any]:
    """Optuna on its own, the reference: ``study.optimize`` with the TPE sampler seeded ``seed``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t = TASKS[task]
    fn = FUNCTIONS[t["function"]]

    def suggest(trial: Any) -> dict[str, float]:
        return {name: trial.suggest_float(name, low, high) for name, (low, high) in t["space"].items()}

    def objective(trial: Any) -> float:
        return fn(suggest(trial))[t["metric"]]

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, **TPE_OPTIONS)
        study = optuna.create_study(direction=t["goal"], sampler=sampler)
        study.optimize(objective, n_trials=trials)
    seconds = time.perf_counter() - start
    values = [tr.value for tr in sorted(study.trials, key=lambda tr: tr.number)]
    return {"curve": _best_so_far(values, t["goal"]), "values": values, "seconds": seconds}


def _stats(curves: Sequence[Sequence[float | None]], n: int) -> dict[str, float | None]:
    vals = [c[n - 1] for c in curves if len(c) >= n and c[n - 1] is not None]
    if not vals:
        return {"mean": None, "std": None, "min": None, "max": None, "runs": 0}
    return {
        "mean": statistics.fmean(vals),
        "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
        "min": min(vals),
        "max": max(vals),
        "runs": len(vals),
    }


def _within(results: dict[str, Any], task: str) -> dict[str, Any]:
    """Whether hypersweep TPE's mean best-so-far lies within Optuna's min..max over seeds."""
    m = results["tasks"][task]["methods"]
    ours, ref = m[HS_TPE], m[OPTUNA_TPE]
    points = []
    for n in results["checkpoints"]:
        a, b = ours["at"][str(n)], ref["at"][str(n)]
        ok = (
            a["mean"] is not None
            and b["min"] is not None
            and b["min"] - 1e-12 <= a["mean"] <= b["max"] + 1e-12
        )
        points.append({"trials": n, "within": ok})
    inside = 0
    total = results["trials"]
    for i in range(total):
        mean = statistics.fmean(c[i] for c in ours["curves"])
        col = [c[i] for c in ref["curves"]]
        inside += min(col) - 1e-12 <= mean <= max(col) + 1e-12
    return {
        "checkpoints": points,
        "all_checkpoints": all(p["within"] for p in points),
        "curve_share": inside / total,
    }


def sampler_seed(study_seed: int) -> int:
    """The seed hypersweep gives a new study's TPE sampler for study seed ``study_seed``."""
    return (study_seed * HS_SEED_FACTOR) & 0x7FFFFFFF


def _identical(runs: dict[str, list[dict[str, Any]]]) -> list[int]:
    """Per seed: how many trials of hypersweep's TPE run have exactly the reference run's value."""
    return [
        sum(1 for a, b in zip(ours["values"], ref["values"], strict=True) if a is not None and a == b)
        for ours, ref in zip(runs[HS_TPE], runs[OPTUNA_TPE], strict=True)
    ]


def run(quick: bool = False) -> dict[str, Any]:
    """Every method on every task and seed; JSON-able results."""
    import logging

    from threadpoolctl import threadpool_limits

    logging.getLogger("hypersweep").setLevel(logging.WARNING)
    seeds = list(range(1, 1 + (QUICK_SEEDS if quick else SEEDS)))
    trials = QUICK_TRIALS if quick else TRIALS
    checkpoints = [c for c in CHECKPOINTS if c <= trials]
    results: dict[str, Any] = {
        "quick": quick,
        "seeds": seeds,
        "trials": trials,
        "checkpoints": checkpoints,
        "grid_points": 100,
        "tpe_options": TPE_OPTIONS,
        "tasks": {},
    }
    with tempfile.TemporaryDirectory(prefix="hs-bench-efficiency-") as tmp:
        work = Path(tmp)
        files = _write_files(work)
        url = f"sqlite:///{work / 'hs.db'}"
        for task in TASKS:  # warm-up (imports, data, store; loads the BLAS libraries): not reported
            _hypersweep_curve(files[task, "tpe"], url, f"{task}-warmup", WARMUP, 0, TASKS[task]["goal"])
            _optuna_curve(task, WARMUP, 0)
        # one BLAS/OpenMP thread, the same for every method: trials run one at a time in this process
        # (threadpoolctl limits only the libraries loaded by now, hence after the warm-up)
        with threadpool_limits(1):
            _run_tasks(results, files, url, seeds, trials, checkpoints)
    results["plot"] = plot(results, PLOT)
    return results


def _run_tasks(
    results: dict[str, Any],
    files: dict[tuple[str, str], Path],
    url: str,
    seeds: list[int],
    trials: int,
    checkpoints: list[int],
) -> None:
    for task, spec in TASKS.items():
        goal = spec["goal"]
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
        for seed in seeds:
            for strategy, name in (("tpe", HS_TPE), ("random", HS_RANDOM)):
                path = files[task, strategy]
                study = f"{task}-{strategy}-s{seed}"
                runs[name].append(_hypersweep_curve(path, url, study, trials, seed, goal))
            runs[OPTUNA_TPE].append(_optuna_curve(task, trials, sampler_seed(seed)))
            print(f"   {task}: seed {seed} done", flush=True)
        runs[HS_GRID].append(_hypersweep_curve(files[task, "grid"], url, f"{task}-grid", trials, 0, goal))
        methods = {}
        for name, rs in runs.items():
            curves = [r["curve"] for r in rs]
            methods[name] = {
                "runs": len(rs),
                "ms_per_trial": statistics.fmean(r["seconds"] for r in rs) / trials * 1000,
                "at": {str(n): _stats(curves, n) for n in checkpoints},
                "curves": [[None if v is None else round(v, 6) for v in c] for c in curves],
            }
        results["tasks"][task] = {
            "title": spec["title"],
            "metric": spec["metric"],
            "goal": goal,
            "space": {k: list(v) for k, v in spec["space"].items()},
            "methods": methods,
            "identical_trials": _identical(runs),
        }
        results["tasks"][task]["tpe_within_optuna"] = _within(results, task)


# -- reporting ------------------------------------------------------------------------------------------
def plot(results: dict[str, Any], path: Path) -> str | None:
    """Best-so-far curves, mean over seeds with a min..max band, one panel per task; the path, or None
    without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    tasks = results["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.5), squeeze=False)
    styles = {
        HS_TPE: {"color": "C0", "linestyle": "-"},
        OPTUNA_TPE: {"color": "C1", "linestyle": "--"},
        HS_RANDOM: {"color": "C2", "linestyle": "-"},
        HS_GRID: {"color": "C3", "linestyle": ":"},
    }
    n = results["trials"]
    xs = list(range(1, n + 1))
    for ax, data in zip(axes[0], tasks.values(), strict=True):
        shown: list[float] = []
        for name, m in data["methods"].items():
            curves = [c for c in m["curves"] if all(v is not None for v in c)]
            if not curves:
                continue
            mean = [statistics.fmean(c[i] for c in curves) for i in range(n)]
            lo = [min(c[i] for c in curves) for i in range(n)]
            hi = [max(c[i] for c in curves) for i in range(n)]
            runs = f"{len(curves)} seeds" if len(curves) > 1 else "1 run"
            ax.plot(xs, mean, label=f"{name} ({runs})", linewidth=1.6, **styles[name])
            if len(curves) > 1:
                ax.fill_between(xs, lo, hi, color=styles[name]["color"], alpha=0.15)
            # zoom on the samplers after their first 10 trials; the grid's early points may fall below
            shown += [lo[-1], hi[-1]] if name == HS_GRID else lo[min(9, n - 1) :] + hi[min(9, n - 1) :]
        if shown:
            pad = (max(shown) - min(shown)) * 0.08 or 0.01
            ax.set_ylim(min(shown) - pad, max(shown) + pad)
        for c in results["checkpoints"]:
            ax.axvline(c, color="grey", linewidth=0.6, alpha=0.5)
        better = "higher" if data["goal"] == "maximize" else "lower"
        ax.set_title(f"{data['title']}", fontsize=10)
        ax.set_xlabel("trials")
        ax.set_ylabel(f"best {data['metric']} so far ({better} is better)")
        ax.legend(fontsize=8)
    quick = " (--quick)" if results["quick"] else ""
    fig.suptitle(f"Sample efficiency: mean best-so-far, band = min..max over seeds{quick}", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path.relative_to(DOCS.parent)) if path.is_relative_to(DOCS.parent) else str(path)


def _num(v: float | None, digits: int) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def _cell(s: dict[str, Any], digits: int) -> str:
    if s["mean"] is None:
        return ""
    if s["runs"] == 1:
        return _num(s["mean"], digits)
    return (
        f"{_num(s['mean'], digits)} ± {_num(s['std'], digits)} "
        f"({_num(s['min'], digits)}..{_num(s['max'], digits)})"
    )


def render(results: dict[str, Any]) -> str:
    """The Markdown section: one table per task, the reference check, and the plot."""
    cps = results["checkpoints"]
    seeds = len(results["seeds"])
    opts = ", ".join(f"{k}={v}" for k, v in results["tpe_options"].items())
    lines = [
        "## Sample efficiency: TPE vs random vs grid",
        "",
        f"Best objective after {', '.join(map(str, cps))} trials: mean ± std (min..max) over {seeds} seeds "
        f'(seeds {results["seeds"][0]}..{results["seeds"][-1]}). hypersweep runs `run_sweep(executor="local")` '
        "on a temporary SQLite store and the curves are read back from the store in trial-number order; "
        f"Optuna runs directly with `TPESampler(seed=..., {opts})` (hypersweep's TPE defaults) and an in-memory "
        "study on the same space and objective; seeds are paired: for study seed s the reference gets the "
        f"sampler seed hypersweep derives from it (s × {HS_SEED_FACTOR:,} masked to 31 bits), so it is the run "
        "hypersweep's must reproduce. Both spaces are two log-scale parameters searched as base-10 "
        f"exponents; the grid covers the same bounds with step {GRID_STEP} ({results['grid_points']} points, "
        "run in the grid's order, deterministic: one run). Fixed train/validation split per task.",
        "",
    ]
    for data in results["tasks"].values():
        digits = 4 if data["metric"] == "val_accuracy" else 2
        space = ", ".join(f"`{k}` ∈ [{lo}, {hi}]" for k, (lo, hi) in data["space"].items())
        lines += [
            f"### {data['title']}: {data['goal']} `{data['metric']}`",
            "",
            f"Space: {space}.",
            "",
            "| method | " + " | ".join(f"after {n}" for n in cps) + " | ms/trial |",
            "|---|" + "---:|" * (len(cps) + 1),
        ]
        for name, m in data["methods"].items():
            cells = " | ".join(_cell(m["at"][str(n)], digits) for n in cps)
            lines.append(f"| {name} | {cells} | {m['ms_per_trial']:.1f} |")
        w = data["tpe_within_optuna"]
        marks = ", ".join(f"{p['trials']}: {'yes' if p['within'] else '**no**'}" for p in w["checkpoints"])
        verdict = "met" if w["all_checkpoints"] else "**missed**"
        same = data.get("identical_trials") or []
        lines += [
            "",
            f"hypersweep TPE's mean within Optuna TPE's min..max over seeds: {marks} ({verdict}); "
            f"over the whole curve at {w['curve_share']:.0%} of trial counts. Trials identical to the "
            f"reference run of the same seed: {', '.join(map(str, same))} of {results['trials']} "
            + (
                "(the same sampler draws the same trials)."
                if same and all(n == results["trials"] for n in same)
                else "(**hypersweep's TPE departs from Optuna's**)."
            ),
            "",
        ]
    if results.get("plot"):
        lines += [f"![best-so-far curves per method and task]({Path(results['plot']).name})", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    res = run(quick="--quick" in sys.argv)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "efficiency.json").write_text(json.dumps(res, indent=2))
    print(render(res))
