"""A plain training script for a command trial: it knows nothing of hypersweep.

It reads its hyperparameters from argv (W&B's `${args}` gives `--alpha=0.1 --l1_ratio=0.5`) and prints
one JSON object per line: `{"step": k, ...}` for per-step values, and the final metrics at the end.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--l1_ratio", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X, y = load_diabetes(return_X_y=True)
    losses = []
    folds = KFold(n_splits=4, shuffle=True, random_state=args.seed)
    for step, (tr, va) in enumerate(folds.split(X)):
        model = ElasticNet(alpha=args.alpha, l1_ratio=args.l1_ratio, max_iter=5000)
        model.fit(X[tr], y[tr])
        losses.append(mean_squared_error(y[va], model.predict(X[va])))
        print(json.dumps({"step": step, "fold_mse": losses[-1]}), flush=True)
    print(json.dumps({"val_mse": float(np.mean(losses))}), flush=True)


if __name__ == "__main__":
    main()
