"""W&B's ``${args_json_file}``: the params arrive as a JSON file of ``{name: value}`` (W&B's agent
writes its ``${args_json}`` there, wandb 0.31 ``wandb_agent.py``); the script
hands them to ``wandb.init(config=...)`` and reads them back from ``wandb.config``."""

import json
import sys

import wandb


def main() -> None:
    with open(sys.argv[1]) as f:
        params = json.load(f)
    run = wandb.init(config=params)
    assert dict(run.config) == params, (dict(run.config), params)
    score = -((run.config.x - 2.0) ** 2) - 0.1 * run.config.layers
    for step in range(3):
        wandb.log({"score": score * (1 + 1.0 / (step + 1))})
    wandb.log({"score": score})
    run.summary["layers_seen"] = run.config.layers


if __name__ == "__main__":
    main()  # no wandb.finish(): the stand-in finishes the run at exit, as W&B does
