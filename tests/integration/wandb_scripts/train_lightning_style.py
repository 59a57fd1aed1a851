"""A Lightning-style training loop (module with training/validation steps, a small trainer) that logs to
W&B every step and writes the best validation loss into the run summary at the end, as a
ModelCheckpoint-minded script does. Validation overfits after a few epochs, so best != last."""

import math

import wandb


class LitRegressor:
    def __init__(self, lr: float, width: int) -> None:
        self.lr = lr
        self.width = width
        self.progress = 0.0

    def training_step(self, batch: int) -> float:
        self.progress += self.lr * (1 + 0.01 * batch)
        return 1.0 / (1.0 + self.progress) + 0.01 * (batch % 3)

    def validation_step(self, epoch: int) -> float:
        underfit = 1.0 / (1.0 + self.progress) + 0.001 * self.width
        overfit = 0.1 * max(0, epoch - 4)
        return underfit + overfit


class Trainer:
    def __init__(self, max_epochs: int, steps_per_epoch: int) -> None:
        self.max_epochs = max_epochs
        self.steps_per_epoch = steps_per_epoch
        self.global_step = 0

    def fit(self, model: LitRegressor, run) -> float:
        best = math.inf
        for epoch in range(self.max_epochs):
            for batch in range(self.steps_per_epoch):
                loss = model.training_step(batch)
                wandb.log({"train/loss": loss, "trainer/global_step": self.global_step})
                self.global_step += 1
            val_loss = model.validation_step(epoch)
            wandb.log({"val_loss": val_loss, "epoch": epoch})
            best = min(best, val_loss)
        run.summary["val_loss"] = best  # the checkpointed (best) model's score
        run.summary["best_epoch_val_loss"] = best
        return best


def main() -> None:
    with wandb.init(project="lit", config={"lr": 0.1, "width": 64, "max_epochs": 8}) as run:
        wandb.define_metric("val_loss", summary="min")
        wandb.watch(None, log="all")
        model = LitRegressor(run.config.lr, run.config.width)
        Trainer(run.config.max_epochs, steps_per_epoch=5).fit(model, run)


if __name__ == "__main__":
    main()
