"""A W&B training script that records what it was given: its argv, the ``${args_json_file}`` it was
pointed at, and ``wandb.config`` (items, key order and attribute access), into ``records/`` beside it.

The fidelity suite runs it as every program of tests/data/wandb/ (copied under the program's name, or as a
console script on PATH) and compares the records with golden.json, which W&B's own code produced.
"""

import json
import os
import sys
import uuid

import wandb

DEFAULTS = {"lr": 0.5, "epochs": 3, "model": {"depth": 3, "lr": 9.0, "act": "relu"}}


def main() -> None:
    argv = sys.argv[1:]
    file_text = None
    for item in argv:
        if item.endswith(".json") and os.path.isfile(item):
            with open(item, encoding="utf-8") as f:
                file_text = f.read()
    run = wandb.init(config=DEFAULTS)
    config = dict(run.config.items())
    attrs = {k: getattr(run.config, k) for k in config}  # W&B allows config.<key> for every key
    with open("/proc/self/cmdline", "rb") as f:
        cmdline = [a.decode() for a in f.read().split(b"\0")[:-1]]
    record = {
        "argv0": sys.argv[0],
        "argv": argv,
        "cmdline": cmdline,
        "executable": sys.executable,
        "args_json_file": file_text,
        "config": config,
        "config_keys": list(config),
        "attrs_match": attrs == config,
        "wandb_file": wandb.__file__,
    }
    os.makedirs("records", exist_ok=True)
    with open(os.path.join("records", f"{uuid.uuid4().hex}.json"), "w", encoding="utf-8") as f:
        json.dump(record, f)
    wandb.log({"loss": 0.5})
    wandb.finish()


if __name__ == "__main__":
    main()
