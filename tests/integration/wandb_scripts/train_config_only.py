"""Linear regression by mini-batch SGD, written the W&B way: no argv at all, every hyperparameter comes
from ``wandb.config`` (the sweep's values over the defaults given to ``wandb.init``)."""

import numpy as np
import wandb


def main() -> None:
    run = wandb.init(project="linreg", config={"lr": 0.05, "epochs": 6, "batch_size": 16, "seed": 0})
    print("wandb module:", wandb.__file__, flush=True)
    cfg = wandb.config
    # a sweep value wins over the script, as under W&B's agent (the update is ignored with a warning)
    wandb.config.update({"lr": 123.0}, allow_val_change=True)

    rng = np.random.default_rng(cfg.seed)
    x = rng.normal(size=(256, 4))
    y = x @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=256)
    x_train, y_train, x_val, y_val = x[:192], y[:192], x[192:], y[192:]
    w = np.zeros(4)
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(x_train))
        for i in range(0, len(x_train), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            grad = 2 * x_train[idx].T @ (x_train[idx] @ w - y_train[idx]) / len(idx)
            w -= cfg["lr"] * grad
        train_loss = np.mean((x_train @ w - y_train) ** 2)
        val_loss = np.mean((x_val @ w - y_val) ** 2)
        wandb.log({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
    run.summary["lr_used"] = cfg.lr
    run.summary["batch_size_used"] = cfg.batch_size
    run.summary["epochs_trained"] = cfg.epochs
    wandb.finish()


if __name__ == "__main__":
    main()
