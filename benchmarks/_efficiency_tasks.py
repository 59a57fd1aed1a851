"""The tasks of the sample-efficiency benchmark (benchmarks/bench_efficiency.py): their spaces and trial functions.

Each task is one objective over a box of float parameters. The trial functions take the parameter mapping
and return a metrics mapping, so hypersweep (through a temporary trial module that re-exports them), Optuna
and W&B's ``sweeps`` engine all call the same code.

- ``branin``: the Branin-Hoo function in its usual 2-D form and box, minimised. Definition as in Surjanovic &
  Bingham, "Virtual Library of Simulation Experiments" (https://www.sfu.ca/~ssurjano/branin.html), and
  Dixon & Szego (1978): a=1, b=5.1/(4 pi^2), c=5/pi, r=6, s=10, t=1/(8 pi), x1 in [-5, 10], x2 in [0, 15];
  global minimum 0.397887 at three points.
- ``hartmann6``: the 6-D Hartmann function on [0, 1]^6, minimised. Constants (alpha, A, P) as in Surjanovic &
  Bingham (https://www.sfu.ca/~ssurjano/hart6.html); global minimum -3.32237 at
  (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
- ``breast-cancer-svc`` and ``diabetes-kernel-ridge``: scikit-learn models on bundled data with one fixed
  train/validation split (see bench_efficiency's docstring).

TODO(#15 item 7, multi-objective and constraints): two more tasks are planned, on hypersweep's
several-objective and constraint support; add them to ``TASKS`` with the keys marked below and score them in
bench_efficiency's ``_score`` hook:
- ``zdt1``: ZDT1 (Zitzler, Deb & Thiele 2000), 2 objectives over [0, 1]^d, scored by the hypervolume of the
  non-dominated front so far w.r.t. the reference point (1.1, 11) (``"objectives": [...]``, ``"score":
  "hypervolume"``); methods: nsga2, multi-objective tpe, auto.
- a constrained task (e.g. Branin with ``constraints: ["metrics.c <= 0"]`` and c = a disc-shaped violation),
  scored as the best feasible objective so far (``"constraints": [...]``, ``"score": "best_feasible"``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

# task name -> title, trial function name, metric, goal, space (name -> (low, high)), grid, known optimum.
# "grid" is the grid run for that task: per parameter (low, high, step), at most 100 points in all.
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
    # TODO(#15 item 7): "zdt1" (two objectives, hypervolume) and a constrained task go here; see the
    # module docstring.
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
    "hartmann6": hartmann6,
    "cancer_svc": cancer_svc,
    "diabetes_krr": diabetes_krr,
}
