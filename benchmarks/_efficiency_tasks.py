"""The tasks of the sample-efficiency benchmark (benchmarks/bench_efficiency.py): their spaces and trial functions.

Each task is a box of float parameters. The trial functions take the parameter mapping and return a metrics
mapping, so hypersweep (through a temporary trial module that re-exports them), Optuna and W&B's ``sweeps``
engine all call the same code. Four tasks have one objective; ``zdt1`` has two (``"objectives"``) and
``branin-disc`` has a constraint (``"constraints"``). A task's ``"score"`` says how a run's best-so-far curve is
measured (bench_efficiency's ``_score``): ``"best"``, the best objective so far; ``"hypervolume"``, the
hypervolume of the non-dominated front so far; ``"best_feasible"``, the best objective among the feasible trials
so far (``"worst"`` until the first one). ``"metric"`` and ``"goal"`` name that score and its direction.
``"strategies"`` and ``"optuna"``, where given, are the hypersweep strategies and the Optuna reference samplers
run on the task (default: all of them); ``"wandb"``, where given, is why W&B's engine is not run on it.

- ``branin``: the Branin-Hoo function in its usual 2-D form and box, minimised. Definition as in Surjanovic &
  Bingham, "Virtual Library of Simulation Experiments" (https://www.sfu.ca/~ssurjano/branin.html), and
  Dixon & Szego (1978): a=1, b=5.1/(4 pi^2), c=5/pi, r=6, s=10, t=1/(8 pi), x1 in [-5, 10], x2 in [0, 15];
  global minimum 0.397887 at three points.
- ``hartmann6``: the 6-D Hartmann function on [0, 1]^6, minimised. Constants (alpha, A, P) as in Surjanovic &
  Bingham (https://www.sfu.ca/~ssurjano/hart6.html); global minimum -3.32237 at
  (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
- ``breast-cancer-svc`` and ``diabetes-kernel-ridge``: scikit-learn models on bundled data with one fixed
  train/validation split (see bench_efficiency's docstring).
- ``zdt1``: ZDT1 (Zitzler, Deb & Thiele, "Comparison of multiobjective evolutionary algorithms: empirical
  results", Evolutionary Computation 8(2), 2000): f1 = x1, g = 1 + 9 (x2 + ... + xd) / (d - 1),
  f2 = g (1 - sqrt(f1 / g)), both minimised over [0, 1]^d; the Pareto front is f2 = 1 - sqrt(f1) (g = 1).
  d = 6 here, not the paper's 30: the paper gives each algorithm 25,000 evaluations and this benchmark
  gives 100, which in 6 dimensions is enough to get near the front, so the scores tell the samplers' search
  apart rather than only their start-up designs; 6 is also Hartmann-6's size. Scored by the hypervolume
  of the non-dominated front so far w.r.t. the reference point (1.1, 11), the usual one for ZDT1 (f1 <= 1 and
  f2 <= g <= 10, so every point counts); the front's own hypervolume, the best possible, is
  1.1 * 11 - 1/3 = 11.766667 (the area between f2 = 1 - sqrt(f1) and the box is 1/3).
- ``branin-disc``: Branin minimised subject to c = (x1 - 2.5)^2 + (x2 - 7.5)^2 - 50 <= 0 (``constraints:
  ["metrics.c <= 0"]``), the disc-constrained Branin-Hoo of Gelbart, Snoek & Adams, "Bayesian Optimization
  with Unknown Constraints" (UAI 2014, the toy problem of its experiments): the disc (70% of the box) holds
  one of Branin's three minima, (pi, 2.275), and leaves (-pi, 12.275) and (3 pi, 2.475) outside, so the
  constrained optimum is still 0.397887 and a search that settles in either other basin stays infeasible
  there. Until a run's first feasible trial its best-so-far is Branin's maximum on the box, 308.129 (at
  (-5, 0)), worse than any feasible value.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

ZDT1_DIMS = 6
ZDT1_REFERENCE = (1.1, 11.0)
BRANIN_MAX = (
    308.129096  # Branin's maximum on its box, at (-5, 0): branin-disc's score before a feasible trial
)

# task name -> title, trial function name, metric, goal, space (name -> (low, high)), grid, known optimum
# (of the score); see the module docstring for the other keys. "grid" is the grid run for that task: per
# parameter (low, high, step), at most 100 points in all.
TASKS: dict[str, dict[str, Any]] = {
    "branin": {
        "title": "Branin (2-D)",
        "function": "branin",
        "metric": "y",
        "goal": "minimize",
        "space": {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)},
        # cell-centred 10 x 10 grid: the centres of a 10 x 10 partition of the box
        "grid": {"x1": (-4.25, 9.25, 1.5), "x2": (0.75, 14.25, 1.5)},
        "optimum": 0.397887,
    },
    "hartmann6": {
        "title": "Hartmann-6 (6-D)",
        "function": "hartmann6",
        "metric": "y",
        "goal": "minimize",
        "space": {f"x{i}": (0.0, 1.0) for i in range(1, 7)},
        # the largest full grid within 100 trials: 2 levels per parameter (cell centres), 64 points
        "grid": {f"x{i}": (0.25, 0.75, 0.5) for i in range(1, 7)},
        "optimum": -3.32237,
    },
    "breast-cancer-svc": {
        "title": "SVC (RBF) on breast_cancer",
        "function": "cancer_svc",
        "metric": "val_accuracy",
        "goal": "maximize",
        "space": {"log10_C": (-2.0, 2.5), "log10_gamma": (-5.0, -0.5)},
        "grid": {"log10_C": (-2.0, 2.5, 0.5), "log10_gamma": (-5.0, -0.5, 0.5)},
        "optimum": None,
    },
    "diabetes-kernel-ridge": {
        "title": "KernelRidge (RBF) on diabetes",
        "function": "diabetes_krr",
        "metric": "val_rmse",
        "goal": "minimize",
        "space": {"log10_alpha": (-4.0, 0.5), "log10_gamma": (-4.5, 0.0)},
        "grid": {"log10_alpha": (-4.0, 0.5, 0.5), "log10_gamma": (-4.5, 0.0, 0.5)},
        "optimum": None,
    },
    "zdt1": {
        "title": "ZDT1 (2 objectives, 6-D)",
        "function": "zdt1",
        # the score: the hypervolume of the front so far (higher is better); the objectives are minimised
        "metric": "hypervolume",
        "goal": "maximize",
        "objectives": (("f1", "minimize"), ("f2", "minimize")),
        "score": "hypervolume",
        "reference_point": ZDT1_REFERENCE,
        "space": {f"x{i}": (0.0, 1.0) for i in range(1, ZDT1_DIMS + 1)},
        "grid": {f"x{i}": (0.25, 0.75, 0.5) for i in range(1, ZDT1_DIMS + 1)},
        "optimum": round(ZDT1_REFERENCE[0] * ZDT1_REFERENCE[1] - 1 / 3, 6),
        # cmaes optimises one objective (hypersweep refuses it with several); Optuna's CMA-ES likewise
        "strategies": ("grid", "random", "tpe", "gp", "qmc", "nsga2", "auto"),
        "optuna": ("tpe", "gp", "qmc", "nsga2"),
        "wandb": (
            "W&B's engine takes one metric: `sweeps` {version}'s config schema has a single `metric` object "
            "(`name`, `goal`, `target`, `impute`) and its bayes search models that one value"
        ),
    },
    "branin-disc": {
        "title": "Branin with a disc constraint (2-D)",
        "function": "branin_disc",
        "metric": "y",
        "goal": "minimize",
        "constraints": ("metrics.c <= 0",),
        "score": "best_feasible",
        "worst": BRANIN_MAX,
        "space": {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)},
        "grid": {"x1": (-4.25, 9.25, 1.5), "x2": (0.75, 14.25, 1.5)},
        "optimum": 0.397887,
        # the constraint-aware strategies (tpe, gp, nsga2), the constraint-blind random and qmc baselines
        # (and the grid), and auto; the Optuna references of the Optuna samplers among them
        "strategies": ("grid", "random", "tpe", "gp", "qmc", "nsga2", "auto"),
        "optuna": ("tpe", "gp", "qmc", "nsga2"),
        "wandb": (
            "W&B's engine has no constraints: `sweeps` {version}'s config schema has no key for them and its "
            "bayes search models the one metric only"
        ),
    },
}


def grid_points(task: str) -> int:
    n = 1
    for low, high, step in TASKS[task]["grid"].values():
        n *= round((high - low) / step) + 1
    return n


# -- synthetic functions ----------------------------------------------------------------------------------
def branin(params: dict[str, Any]) -> dict[str, float]:
    x1, x2 = float(params["x1"]), float(params["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    y = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    return {"y": y}


def branin_disc(params: dict[str, Any]) -> dict[str, float]:
    """Branin and the disc constraint c <= 0 (Gelbart, Snoek & Adams 2014; see the module docstring)."""
    x1, x2 = float(params["x1"]), float(params["x2"])
    return {"y": branin(params)["y"], "c": (x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - 50.0}


def zdt1(params: dict[str, Any]) -> dict[str, float]:
    x = [float(params[f"x{i}"]) for i in range(1, ZDT1_DIMS + 1)]
    f1 = x[0]
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    return {"f1": f1, "f2": g * (1.0 - math.sqrt(f1 / g))}


_H6_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H6_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
_H6_P = (
    (1312, 1696, 5569, 124, 8283, 5886),
    (2329, 4135, 8307, 3736, 1004, 9991),
    (2348, 1451, 3522, 2883, 3047, 6650),
    (4047, 8828, 8732, 5743, 1091, 381),
)


def hartmann6(params: dict[str, Any]) -> dict[str, float]:
    x = [float(params[f"x{j}"]) for j in range(1, 7)]
    y = 0.0
    for alpha, a, p in zip(_H6_ALPHA, _H6_A, _H6_P, strict=True):
        inner = sum(a[j] * (x[j] - p[j] * 1e-4) ** 2 for j in range(6))
        y -= alpha * math.exp(-inner)
    return {"y": y}


# -- scikit-learn tasks -----------------------------------------------------------------------------------
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
    "branin": branin,
    "branin_disc": branin_disc,
    "zdt1": zdt1,
    "hartmann6": hartmann6,
    "cancer_svc": cancer_svc,
    "diabetes_krr": diabetes_krr,
}
