"""Uses a part of the W&B API the offline capture does not implement (the public API client)."""

import wandb


def main() -> None:
    wandb.init(config={"x": 1})
    wandb.log({"loss": 1.0})
    api = wandb.Api()
    print(api.runs("me/project"))


if __name__ == "__main__":
    main()
