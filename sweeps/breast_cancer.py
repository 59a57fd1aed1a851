"""Trial function on scikit-learn's bundled breast_cancer data set."""

from __future__ import annotations

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import hypersweep


def train_logreg(params: dict) -> dict:
    hypersweep.seed_everything()
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=params["C"], penalty=params["penalty"], solver="liblinear", max_iter=500),
    )
    scores = cross_val_score(model, X, y, cv=3, scoring="roc_auc")
    return {"val_auc": float(scores.mean())}
