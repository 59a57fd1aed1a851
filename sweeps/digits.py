"""Trial functions on scikit-learn's bundled digits data set (no download)."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.svm import SVC

import hypersweep


def _data():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def train_svc(params: dict) -> dict:
    """SVC accuracy with 3-fold cross-validation."""
    seed = hypersweep.seed_everything()
    X, y = _data()
    model = SVC(C=params["C"], gamma=params["gamma"], kernel=params.get("kernel", "rbf"), random_state=seed)
    scores = cross_val_score(model, X, y, cv=3)
    return {"val_accuracy": float(scores.mean()), "val_accuracy_std": float(scores.std())}


def train_sgd(params: dict) -> dict:
    """Linear model trained epoch by epoch; each epoch is reported, so bad trials are pruned early."""
    seed = hypersweep.seed_everything()
    X, y = _data()
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = SGDClassifier(
        alpha=params["alpha"], loss=params["loss"], learning_rate="optimal", random_state=seed
    )
    classes = np.unique(y)
    acc = 0.0
    for epoch in range(params.get("epochs", 10)):
        model.partial_fit(X_tr, y_tr, classes=classes)
        acc = float(model.score(X_val, y_val))
        hypersweep.report(epoch, val_accuracy=acc)  # raises hypersweep.Pruned when the pruner says so
    return {"val_accuracy": acc}


def train_forest_size(params: dict) -> dict:
    """A random forest: validation accuracy and its size (total tree nodes), two objectives at odds."""
    from sklearn.ensemble import RandomForestClassifier

    seed = hypersweep.seed_everything()
    X, y = _data()
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = RandomForestClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        max_features=params["max_features"],
        random_state=seed,
        n_jobs=1,
    )
    model.fit(X_tr, y_tr)
    nodes = sum(est.tree_.node_count for est in model.estimators_)
    return {"val_accuracy": float(model.score(X_val, y_val)), "model_nodes": float(nodes)}
