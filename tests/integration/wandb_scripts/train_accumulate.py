"""W&B's step rules: ``commit=False`` rows accumulate into one step, the committing call closes it; an
explicit ``step=`` larger than the current one opens that step."""

import wandb


def main() -> None:
    run = wandb.init(config={"epochs": 4, "decay": 0.5})
    lr = 1.0
    for epoch in range(run.config.epochs):
        wandb.log({"train_loss": 1.0 / (epoch + 1)}, commit=False)
        wandb.log({"lr": lr}, commit=False)
        wandb.log({"val_loss": 1.5 / (epoch + 1)})  # commits train_loss, lr and val_loss together
        lr *= run.config.decay
    wandb.log({"test_acc": 0.75}, step=100)  # not committed yet: the next commit closes step 100
    wandb.log({"test_loss": 0.25}, commit=True)
    wandb.log({"after": 1.0})  # step 101
    run.finish()


if __name__ == "__main__":
    main()
