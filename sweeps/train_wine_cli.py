"""A plain training script for a command trial: it knows nothing of hypersweep.

It takes its hyperparameters as command-line flags and prints one JSON object per line on stdout:
``{"step": k, "val_accuracy": ...}`` after each cross-validation fold, then the final metrics. That is
all hypersweep needs (see wine_command.yaml). It runs by hand as well:

    python train_wine_cli.py --C=1.0 --kernel=rbf --seed=0
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", type=float, required=True)
    parser.add_argument("--gamma", type=float, default=None)
    parser.add_argument("--kernel", choices=["rbf", "linear", "poly"], default="rbf")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold split")
    args = parser.parse_args()

    X, y = load_wine(return_X_y=True)
    scores = []
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    for step, (tr, va) in enumerate(folds.split(X, y)):
        model = make_pipeline(
            StandardScaler(), SVC(C=args.C, kernel=args.kernel, gamma=args.gamma or "scale")
        )
        model.fit(X[tr], y[tr])
        scores.append(float(model.score(X[va], y[va])))
        print(json.dumps({"step": step, "fold_accuracy": scores[-1]}), flush=True)
    print(json.dumps({"val_accuracy": float(np.mean(scores)), "val_accuracy_std": float(np.std(scores))}))


if __name__ == "__main__":
    main()
