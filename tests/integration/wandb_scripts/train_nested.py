"""A W&B script for a config with nested parameters (``optimizer: {parameters: {...}}``) and a name that
holds a dot (``model.depth``): W&B's agent gives ``config.optimizer`` as a dict and ``config["model.depth"]``
as a top-level key. It ignores argv (the config's ``${args}`` are there too)."""

import math

import wandb


def main() -> None:
    run = wandb.init(config={"epochs": 6, "optimizer": {"name": "adam", "momentum": 0.0}})
    cfg = run.config
    opt = cfg.optimizer
    assert isinstance(opt, dict), type(opt)
    depth = cfg["model.depth"]
    base = 0.3 if opt["name"] == "adam" else 0.5 - 0.2 * opt["momentum"]
    base += abs(math.log10(cfg.lr) + 2.5) * 0.1 + 0.05 * depth
    for epoch in range(cfg.epochs):
        wandb.log({"val_loss": base + 1.0 / (epoch + 1)})
    run.summary.update(
        {"seen_depth": depth, "seen_momentum": opt["momentum"], "seen_adam": float(opt["name"] == "adam")}
    )


if __name__ == "__main__":
    main()
