"""Trial function on scikit-learn's bundled wine data set, with a conditional space."""

from __future__ import annotations

from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import hypersweep


def train(params: dict) -> dict:
    seed = hypersweep.seed_everything()
    X, y = load_wine(return_X_y=True)
    if params["model"] == "svc":
        model = make_pipeline(StandardScaler(), SVC(C=params["C"], kernel=params["kernel"]))
    else:
        model = RandomForestClassifier(
            n_estimators=params["n_estimators"], max_depth=params["max_depth"], random_state=seed, n_jobs=1
        )
    return {"val_accuracy": float(cross_val_score(model, X, y, cv=3).mean())}
