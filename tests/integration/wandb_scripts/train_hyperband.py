"""A learning curve per trial: ``quality`` decides how fast ``val_loss`` falls. Under W&B's hyperband
the bad trials are stopped after a few logged values."""

import time

import wandb


def main() -> None:
    run = wandb.init(config={"epochs": 9})
    q = run.config.quality
    for epoch in range(run.config.epochs):
        wandb.log({"val_loss": 1.0 / (1.0 + epoch * q)})
        time.sleep(0.02)


if __name__ == "__main__":
    main()
